// Futures: multi-value, several waiters, futures inside messages, ids never reused, iwait and wait.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future, RemoteError } from "../../runtime/index.ts";
import { Sender } from "./fixtures/futures.ts";
import { FibChare } from "./fixtures/fib.ts";

const fixtures = new URL("./fixtures/futures.ts", import.meta.url).href;
const fib = new URL("./fixtures/fib.ts", import.meta.url).href;

beforeAll(() => charm.start({ numPes: 2, modules: [fixtures, fib] }));
afterAll(() => charm.shutdown());

describe("futures", () => {
  it("a multi-value future completes after numVals sends, with every value", async () => {
    const arr = charm.array(Sender, 3);
    const f = new Future<number[]>(3);
    expect(f.numVals).toBe(3);
    for (let i = 0; i < 3; i++) arr.at(i).sendIndex(f as unknown as Future<number>);
    const values = await f;
    expect([...values].sort((a, b) => a - b)).toEqual([0, 10, 20]);
    // from the driver itself, in order
    const g = new Future<string[]>(3);
    g.send("a"); g.send("b");
    expect(g.status).toBe("pending");
    g.send("c");
    expect(await g).toEqual(["a", "b", "c"]);
  });

  it("a future awaited by several coroutines gives each the value", async () => {
    const arr = charm.array(Sender, 2);
    expect(await arr.at(0).severalWaiters.ret(arr.at(1), 5)).toEqual([5, 6, 7]);
    expect(await arr.at(0).severalWaiters.ret(arr.at(0), 9)).toEqual([9, 10, 11]);
    // three entry-method calls suspended on one future
    const waiting = [arr.at(1).waitShared.ret(), arr.at(1).waitShared.ret(), arr.at(1).waitShared.ret()];
    const { f: shared } = await arr.at(1).sharedFuture.ret();
    expect(shared.home).toBe(1);
    arr.at(0).resolve(shared, 77);
    expect(await Promise.all(waiting)).toEqual([77, 77, 77]);
    // on the driver
    const f = new Future<number>();
    const all = Promise.all([f, f.then((v) => v + 1), (async () => (await f) + 2)()]);
    f.send(1);
    expect(await all).toEqual([1, 2, 3]);
  });

  it("futures sent inside messages (nested in objects and arrays) are resolved from PEs", async () => {
    const arr = charm.array(Sender, 2);
    for (const i of [0, 1]) {
      const reply = new Future<string>();
      const list = [new Future<number>(), new Future<number>()];
      arr.at(i).resolveNested({ reply: { to: reply }, list, tag: "hi" });
      expect(await reply).toBe(`hi from PE ${i}`);
      expect(await Promise.all(list)).toEqual([i, 1 + i]);
    }
    // a PE's own future sent to another PE and back home
    expect(await arr.at(0).roundTrip.ret(arr.at(1))).toBe("nested from PE 1");
    // a future rejected from a PE
    const failing = new Future<number>();
    arr.at(1).fail(failing, "no value");
    const err = await Promise.resolve(failing).catch((e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.pe).toBe(1);
    expect(err.remoteMessage).toBe("no value");
  });

  it("a future can't be awaited away from home, and says where it belongs", async () => {
    const arr = charm.array(Sender, 1);
    const { f: remote } = await arr.at(0).sharedFuture.ret();
    expect(remote.status).toBe("remote");
    expect(() => remote.then(() => undefined)).toThrow(/belongs to PE 0/);
    arr.at(0).resolve(remote, 1);
  });

  it("a future that comes home in a message can be awaited while pending, and says so once completed", async () => {
    const arr = charm.array(Sender, 2);
    const f = new Future<number>();
    const { f: back } = await arr.at(1).echoFuture.ret({ f });
    expect(back.id).toBe(f.id);
    expect(back.status).toBe("pending");
    f.send(3);
    expect(await back).toBe(3);
    expect(await f).toBe(3);
    const { f: late } = await arr.at(1).echoFuture.ret({ f });
    expect(() => late.then(() => undefined)).toThrow(/has already completed; this copy of it arrived in a message afterwards/);
  });

  it("future ids are never reused: 50,000 created and resolved in a loop", async () => {
    const ids = new Set<number>();
    let sum = 0;
    for (let i = 0; i < 50_000; i++) {
      const f = new Future<number>();
      ids.add(f.id);
      f.send(i);
      sum += await f;
    }
    expect(ids.size).toBe(50_000);
    expect(sum).toBe((50_000 * 49_999) / 2);
    const arr = charm.array(Sender, 2);
    expect(await arr.manyFutures.ret(50_000)).toEqual([50_000, 50_000]);
  });

  it("more than 2^15 singleton chares in one run (Charm4Py aborts near there): Fib(21)", async () => {
    const done = new Future<number>();
    charm.chare(FibChare, [21, done, true]); // 35,421 chares
    expect(await done).toBe(10946);
  });

  it("more than 2^15 remote ret calls in one run all complete (Charm4Py's fid wrap)", async () => {
    const arr = charm.array(Sender, 2);
    const n = 2 ** 15 + 100;
    const ids = new Set<number>();
    let total = 0;
    for (let start = 0; start < n; start += 4096) {
      const batch: Array<Future<number>> = [];
      for (let i = start; i < Math.min(n, start + 4096); i++) {
        const f = new Future<number>();
        ids.add(f.id);
        arr.at(i % 2).resolve(f, 1);
        batch.push(f);
      }
      total += (await Promise.all(batch)).reduce((a, b) => a + b, 0);
    }
    expect(total).toBe(n);
    expect(ids.size).toBe(n);
  });
});

describe("iwait and wait", () => {
  it("iwait yields futures in the order chares resolve them", async () => {
    const chain = [0, 1, 2, 3].map(() => charm.chare(Sender, [], { onPe: 1 }));
    for (const order of [[2, 0, 3, 1], [3, 2, 1, 0], [0, 1, 2, 3]]) {
      const futures = [0, 1, 2, 3].map(() => new Future<number>());
      chain[0]!.resolveInOrder(futures, order, chain, 0);
      const seen: number[] = [];
      // iwait yields the future itself (Charm4Py's iwait does too): await it for its value.
      for await (const f of charm.iwait(futures)) seen.push(await f);
      expect(seen).toEqual(order);
    }
  });

  it("iwait yields already-resolved futures first, then later ones; a rejected one throws out of the loop", async () => {
    const arr = charm.array(Sender, 2);
    const a = new Future<string>();
    const b = new Future<string>();
    const c = new Future<string>();
    b.send("b");
    const seen: string[] = [];
    for await (const f of charm.iwait([a, b, c])) {
      seen.push(await f);
      if (seen.length === 1) arr.at(0).resolve(c, "c");
      if (seen.length === 2) arr.at(1).resolve(a, "a");
    }
    expect(seen).toEqual(["b", "c", "a"]);
    const d = new Future<string>();
    const e = new Future<string>();
    arr.at(1).fail(e, "e failed");
    const err = await (async () => {
      for await (const f of charm.iwait([d, e])) {
        await f; // e is the only one ready, and it failed
        throw new Error("unreachable: e failed");
      }
    })().catch((x) => x);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.remoteMessage).toBe("e failed");
    d.send("d");
  });

  it("iwait on a PE over futures and a channel", async () => {
    const arr = charm.array(Sender, 2);
    expect(await arr.iwaitHere.ret()).toEqual([
      ["future:b", "channel:c", "future:a"],
      ["future:b", "channel:c", "future:a"],
    ]);
  });

  it("charm.wait resolves once every future is ready", async () => {
    const arr = charm.array(Sender, 2);
    const futures = [0, 1, 2, 3, 4].map(() => new Future<number>());
    futures.forEach((f, i) => arr.at(i % 2).resolve(f, i));
    await charm.wait(futures);
    expect(futures.map((f) => f.status)).toEqual(["resolved", "resolved", "resolved", "resolved", "resolved"]);
    expect(await Promise.all(futures)).toEqual([0, 1, 2, 3, 4]);
    await charm.wait([]);
  });
});

describe("iwait yields the waitables themselves", () => {
  it("gives back the very future objects, in readiness order, never their values", async () => {
    const a = new Future<number>();
    const b = new Future<number>();
    b.send(1);
    const got: string[] = [];
    // TypeScript types a for-await variable as Awaited<T> (the future's value); at run time it is
    // the future itself, so identity is checked through an unknown.
    for await (const item of charm.iwait([a, b])) {
      const f: unknown = item;
      got.push(f === a ? "a" : f === b ? "b" : `not a waitable: ${String(f)}`);
      if (f === b) a.send(2);
    }
    expect(got).toEqual(["b", "a"]);
  });
});
