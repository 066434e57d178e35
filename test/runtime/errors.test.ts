// Errors: remote exceptions through futures (element and broadcast), unobserved errors
// reported with PE and chare, and bad input rejected at the call site (issue 2, item 9).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, CharmError, Future, RemoteError } from "../../runtime/index.ts";
import { Chare } from "../../runtime/index.ts";
import { BadCtor, Boom, FailingSingleton, Opaque, WithAt, WithThen } from "./fixtures/errors.ts";
import { TRANSPORTS, over } from "./transports.ts";
import { bounded, runtimeState } from "../bounded.ts";

/** Not exported from any module the PEs load. */
class Hidden extends Chare {
  ok(): number {
    return 1;
  }
}

const fixtures = new URL("./fixtures/errors.ts", import.meta.url).href;

/** A class the driver registers and the PEs don't (their modules never mention it). */
class DriverOnly {
  x = 1;
}
charm.serializable(DriverOnly);

/** A promise with its resolver outside (orders events without sleeping). */
function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function rejection(p: PromiseLike<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("charm.serializable", () => {
  it("refuses built-ins whose state can't be copied (WeakMap, Promise, …) and classes extending them, with a CharmError that says what to send instead", () => {
    class Cache extends WeakMap<object, number> {}
    class Later extends Promise<number> {}
    for (const [cls, name] of [[WeakMap, "WeakMap"], [WeakSet, "WeakSet"], [WeakRef, "WeakRef"], [FinalizationRegistry, "FinalizationRegistry"], [Promise, "Promise"], [Cache, "WeakMap"], [Later, "Promise"]] as const) {
      const register = () => charm.serializable(cls);
      expect(register).toThrow(CharmError);
      expect(register).toThrow(new RegExp(`charm\\.serializable\\(${cls.name}\\): its instances are ${name}s, .*can't be sent to another PE at all.*Instead, `));
    }
  });

  it("still accepts a plain class", () => {
    class Plain { x = 1; }
    expect(charm.serializable(Plain)).toBe(Plain);
  });
});

describe("before start", () => {
  it("calling the runtime before it has started is a CharmError that says how to start it", () => {
    expect(() => charm.array(Boom, 2)).toThrow(CharmError);
    expect(() => charm.array(Boom, 2)).toThrow(/hasn't started.*charm\.start/);
    expect(() => new Future()).toThrow(/hasn't started/);
    expect(() => charm.myPe()).toThrow(/hasn't started/);
    expect(() => charm.chare(Boom)).toThrow(/hasn't started/);
  });
});

describe.each(TRANSPORTS)("with the runtime running (%s)", (transport) => {
  beforeAll(() => charm.start({ numPes: 2, modules: [fixtures], ...over(transport) }));
  afterAll(() => charm.shutdown());

  describe("exceptions through futures", () => {
    it("an element's exception rejects ret and awaitable with a RemoteError naming PE, chare, method and stack", async () => {
      const arr = charm.array(Boom, 4);
      for (const [i, pe] of [[0, 0], [3, 1]] as const) {
        for (const err of [await rejection(arr.at(i).throwIt.ret("bad range")), await rejection(arr.at(i).throwIt.awaitable("bad range"))]) {
          expect(err).toBeInstanceOf(RemoteError);
          expect(err.pe).toBe(pe);
          expect(err.chare).toBe(`Boom[${i}]`);
          expect(err.method).toBe("throwIt");
          expect(err.remoteName).toBe("RangeError");
          expect(err.remoteMessage).toBe("bad range");
          expect(err.message).toContain(`RangeError: bad range (raised on PE ${pe} in Boom[${i}].throwIt)`);
          expect(err.stack).toContain(`--- remote stack (PE ${pe}) ---`);
          expect(err.stack).toMatch(/at Boom\.throwIt/);
        }
      }
    });

    it("an async entry method's rejection reaches the future", async () => {
      const arr = charm.array(Boom, 2);
      const err = await rejection(arr.at(1).throwLater.ret("late"));
      expect(err).toBeInstanceOf(RemoteError);
      expect(err).toMatchObject({ pe: 1, chare: "Boom[1]", method: "throwLater", remoteName: "SyntaxError", remoteMessage: "late" });
    });

    it("a non-Error thrown value still arrives as a RemoteError", async () => {
      const arr = charm.array(Boom, 1);
      const err = await rejection(arr.at(0).throwString.ret());
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.remoteMessage).toContain("a plain string");
    });

    it("a broadcast's ret and awaitable reject when one element throws", async () => {
      const arr = charm.array(Boom, 6);
      for (const bad of [1, 5]) {
        const pe = Math.floor((bad * 2) / 6);
        for (const err of [await rejection(arr.failAt.ret(bad)), await rejection(arr.failAt.awaitable(bad))]) {
          expect(err).toBeInstanceOf(RemoteError);
          expect(err).toMatchObject({ pe, chare: `Boom[${bad}]`, method: "failAt", remoteMessage: `element ${bad} failed` });
        }
      }
      expect(await arr.failAt.ret(-1)).toEqual([0, 1, 2, 3, 4, 5]);
    });

    it("a return value that can't cross rejects the caller's future", async () => {
      const arr = charm.array(Boom, 2);
      const err = await rejection(arr.at(1).returnFunction.ret());
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.message).toMatch(/function/);
      expect(err.message).toContain(".f");
    });

    it("a chare sending a function fails that entry method, naming the argument", async () => {
      const arr = charm.array(Boom, 2);
      const err = await rejection(arr.at(0).sendFunction.ret(arr.at(1)));
      expect(err).toBeInstanceOf(RemoteError);
      expect(err).toMatchObject({ pe: 0, chare: "Boom[0]", method: "sendFunction" });
      expect(err.message).toContain("args[0]");
    });

    it("a constructor's exception rejects awaitCreation; the other elements work", async () => {
      const arr = charm.array(BadCtor, 3, { args: [7] });
      const err = await rejection(charm.awaitCreation(arr));
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.message).toContain("constructor failed at 7");
      expect(await arr.at(2).ok.ret()).toBe(7);
    });

    it("a call to an element whose constructor threw says why it doesn't exist, with the error's class", async () => {
      const arr = charm.array(BadCtor, 3, { args: [8] });
      const err = await rejection(arr.at(1).ok.ret());
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.message).toMatch(/BadCtor\[1\] does not exist on PE \d: creating it failed \(Error: constructor failed at 8\)/);
    });
  });

  describe("a chare class the PEs don't know", () => {
    it("calls to its elements reject instead of hanging; the runtime keeps working", async () => {
      const arr = charm.array(Hidden, 2);
      const err = await rejection(arr.at(1).ok.ret());
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.message).toMatch(/Hidden\[1\]/);
      expect(await charm.array(Boom, 2).ok.ret(1)).toEqual([2, 2]);
    });

    it("a broadcast awaiting its elements rejects with why they don't exist, instead of hanging", async () => {
      const arr = charm.array(Hidden, 4);
      const err = await rejection(arr.ok.ret());
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.message).toMatch(/a broadcast to Hidden\.ok can't reach its elements on PE \d: creating them failed \(chare class Hidden is not known on PE \d.*export class Hidden/);
      expect(await charm.array(Boom, 2).ok.ret(1)).toEqual([2, 2]);
    });

    it("awaitCreation rejects, saying to export the class", async () => {
      const arr = charm.array(Hidden, 2);
      const err = await rejection(charm.awaitCreation(arr));
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.message).toMatch(/chare class Hidden is not known on PE \d.*export class Hidden/);
    });
  });

  describe("errors nobody awaits", () => {
    it("a fire-and-forget exception goes to charm.onError with its PE and chare", async () => {
      const arr = charm.array(Boom, 4);
      try {
        for (const [i, pe] of [[0, 0], [3, 1]] as const) {
          const got = deferred<RemoteError>();
          charm.onError((e) => got.resolve(e));
          arr.at(i).throwIt("nobody listens");
          const err = await got.promise;
          expect(err).toBeInstanceOf(RemoteError);
          expect(err).toMatchObject({ pe, chare: `Boom[${i}]`, method: "throwIt", remoteMessage: "nobody listens" });
        }
        // an async method's rejection and a broadcast's too
        const errors: RemoteError[] = [];
        const three = deferred<void>();
        charm.onError((e) => { errors.push(e); if (errors.length === 3) three.resolve(); });
        arr.at(2).throwLater("async nobody");
        arr.failAt(1);
        arr.failAt(3);
        await three.promise;
        expect(errors.map((e) => `${e.chare}.${e.method}:${e.remoteMessage}`).sort()).toEqual([
          "Boom[1].failAt:element 1 failed",
          "Boom[2].throwLater:async nobody",
          "Boom[3].failAt:element 3 failed",
        ]);
        expect(errors.find((e) => e.chare === "Boom[1]")!.pe).toBe(0);
      } finally {
        charm.onError(undefined);
      }
      // nothing is broken afterwards
      expect(await arr.ok.ret(2)).toEqual([4, 4, 4, 4]);
    });
  });

  describe("more errors nobody awaits", () => {
    it("a throwing reduction target and a throwing singleton constructor are reported", async () => {
      try {
        const got = deferred<RemoteError>();
        charm.onError((e) => got.resolve(e));
        const arr = charm.array(Boom, 2);
        arr.reduceToThrower();
        expect(await got.promise).toMatchObject({ chare: "Boom[1]", method: "throwIt", remoteName: "RangeError", remoteMessage: "1", pe: 1 });
        const again = deferred<RemoteError>();
        charm.onError((e) => again.resolve(e));
        charm.chare(FailingSingleton, [], { onPe: 1 });
        const err = await again.promise;
        expect(err.pe).toBe(1);
        expect(err.message).toContain("singleton constructor failed");
      } finally {
        charm.onError(undefined);
      }
    });
  });

  describe("a failed call whose future nobody awaits", () => {
    it("doesn't crash the process with an unhandled rejection; awaiting later still gives the error", async () => {
      const arr = charm.array(Boom, 2);
      const forgotten = arr.at(1).throwIt.ret("forgotten");
      arr.at(0).throwIt.awaitable("also forgotten");
      await charm.waitQD();
      await new Promise((resolve) => setImmediate(resolve)); // let Node look for unhandled rejections
      await expect(Promise.resolve(forgotten)).rejects.toThrow(/forgotten/);
      expect(await arr.ok.ret(1)).toEqual([2, 2]);
    });
  });

  describe("futures completed twice", () => {
    it("a value sent to a future that already completed is reported, not dropped", async () => {
      const arr = charm.array(Boom, 2);
      try {
        const got = deferred<RemoteError>();
        charm.onError((e) => got.resolve(e));
        const f = new Future<number>();
        f.send(1);
        f.send(2);
        expect(await f).toBe(1);
        expect((await got.promise).message).toMatch(/already completed/);
        // a second value from a PE
        const again = deferred<RemoteError>();
        charm.onError((e) => again.resolve(e));
        const g = new Future<number>();
        g.send(1);
        await g;
        arr.at(1).sendTo(g, 2);
        expect((await again.promise).message).toMatch(/already completed/);
      } finally {
        charm.onError(undefined);
      }
    });
  });

  describe("bad input at the call site", () => {
    it("an unknown entry method names the class and lists its entry methods", async () => {
      const arr = charm.array(Boom, 2);
      const call = () => (arr.at(0) as any).nope(1);
      expect(call).toThrow(CharmError);
      expect(call).toThrow(/Boom has no entry method "nope"; its entry methods are: contributeWith, failAt, ok, reduceToThrower, returnFunction, sendFunction, sendTo, throwIt, throwLater, throwString, waitForever/);
      expect(() => (arr as any).nope.ret()).toThrow(/Boom has no entry method "nope"/);
      expect(() => (arr as any).nope.awaitable()).toThrow(/Boom has no entry method "nope"/);
      // Chare's own members are not entry methods
      expect(() => (arr.at(0) as any).contribute()).toThrow(/no entry method "contribute"/);
      expect(() => (arr.at(0) as any).thisIndex()).toThrow(/no entry method "thisIndex"/);
      expect(await arr.at(0).ok.ret(1)).toBe(2);
    });

    it("a method named then or at, which proxies keep for themselves, is refused or explained", async () => {
      // Before: creating WithThen worked and any call failed with "Cannot read properties of undefined (reading 'ret')".
      expect(() => charm.array(WithThen, 2)).toThrow(/^WithThen has a method named "then", which a proxy can't offer \(await would take the proxy for a promise\): rename it/);
      const withAt = charm.array(WithAt, 2);
      expect(() => (withAt.at(0) as any).at(1)).toThrow(/^WithAt's method "at" can't be called through a proxy: proxies keep \.at\(\) for picking an element\. Rename it/);
      expect(await withAt.at(1).ok.ret()).toBe(1);
    });

    it("an unserializable argument names its path: a function, a symbol, a class instance", async () => {
      const arr = charm.array(Boom, 2);
      const bad = arr.at(1) as any;
      expect(() => bad.ok({ items: [1, 2, () => 3] })).toThrow(CharmError);
      expect(() => bad.ok({ items: [1, 2, () => 3] })).toThrow(/args\[0\]\.items\[2\] is a function/);
      expect(() => bad.ok.ret(1, [Symbol("s")])).toThrow(/args\[1\]\[0\] is a symbol/);
      expect(() => bad.ok.awaitable({ a: { b: new Opaque(1) } })).toThrow(/args\[0\]\.a\.b is an instance of Opaque.*charm\.serializable\(Opaque\)/);
      expect(() => (arr as any).ok(new Map([["k", () => 1]]))).toThrow(/args\[0\]/);
      // and the call names the entry method
      expect(() => bad.ok(() => 3)).toThrow(/Boom\.ok\(\)/);
      // creation arguments too
      expect(() => charm.array(BadCtor, 2, { args: [(() => 1) as unknown as number] })).toThrow(/args\[0\] is a function/);
      expect(() => new Future().send((() => 1) as never)).toThrow(/function/);
      expect(await arr.at(1).ok.ret(21)).toBe(42);
      expect(await arr.ok.ret(1)).toEqual([2, 2]);
    });

    it("an argument nested too deeply to walk is refused at the call, saying what to send instead; the runtime carries on", async () => {
      const arr = charm.array(Boom, 2);
      let deep: { next?: unknown } = {};
      for (let i = 0; i < 100_000; i++) deep = { next: deep };
      expect(() => (arr.at(1) as any).ok(deep)).toThrow(/Boom\.ok\(\).*nested too deeply to send.*flattened/);
      expect(await bounded(Promise.resolve(arr.at(1).ok.ret(21)), 10_000, "a call after it", runtimeState)).toBe(42);
    });

    it("a misspelt creation option is named, with the one meant, instead of ignored", () => {
      expect(() => charm.chare(Boom, [], { onPE: 1 } as never)).toThrow(/^unknown option onPE \(did you mean onPe\?\); charm\.chare\(Boom, args, options\) takes: onPe, awaitable$/);
      expect(() => charm.array(Boom, 2, { useATSync: true } as never)).toThrow(/unknown option useATSync \(did you mean useAtSync\?\)/);
      expect(() => charm.group(Boom, { arg: [] } as never)).toThrow(/unknown option arg; charm\.group\(Boom, options\) takes: args$/);
      expect(() => charm.sparseArray(Boom, { dims: 2 } as never)).toThrow(/unknown option dims; .* takes: ndims, map$/);
    });

    it("an argument whose class is registered on the driver only: the call and the broadcast are rejected saying so, not left waiting", async () => {
      const arr = charm.array(Boom, 3);
      const outcome = (call: PromiseLike<unknown>, what: string) => bounded(Promise.resolve(call).then(() => undefined, (e: unknown) => e), 10_000, what, runtimeState);
      const err = await outcome(arr.at(2).ok.ret(new DriverOnly() as never), "the call's rejection");
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as RemoteError).message).toMatch(/DriverOnly isn't registered on this PE; call charm\.serializable\(DriverOnly\) in the module every PE loads/);
      expect(String(await outcome(arr.ok.ret(new DriverOnly() as never), "the broadcast's rejection"))).toMatch(/DriverOnly isn't registered on this PE/);
      expect(await bounded(Promise.resolve(arr.ok.ret(2)), 10_000, "a broadcast after them", runtimeState)).toEqual([4, 4, 4]);
    });

    it("a WeakMap, WeakSet, WeakRef, FinalizationRegistry or Promise can't be sent at all: the error says so and what to send instead", () => {
      const bad = charm.array(Boom, 2).at(0) as any;
      const cases: Array<[unknown, string, RegExp]> = [
        [new WeakMap(), "WeakMap", /send a Map/],
        [new WeakSet(), "WeakSet", /send a Set/],
        [new WeakRef({}), "WeakRef", /deref\(\)/],
        [new FinalizationRegistry(() => {}), "FinalizationRegistry", /receiving PE itself/],
        [Promise.resolve(1), "Promise", /await it and send its value/],
        [(function* () { yield 1; })(), "generator", /values it yields/],
      ];
      for (const [value, name, instead] of cases) {
        const call = () => bad.ok({ cache: value });
        expect(call).toThrow(CharmError);
        expect(call).toThrow(new RegExp(`args\\[0\\]\\.cache is a ${name}, .*can't be sent to another PE at all`));
        expect(call).toThrow(instead);
        expect(call).not.toThrow(/Register it/);
      }
      // A subclass is one too.
      class Cache extends WeakMap<object, number> {}
      expect(() => bad.ok(new Cache())).toThrow(/args\[0\] is a WeakMap/);
    });

    it("a wrong number of index dimensions or an index out of range is a CharmError", async () => {
      const arr = charm.array(Boom, 3);
      expect(() => arr.at(1, 2)).toThrow(CharmError);
      expect(() => arr.at(1, 2)).toThrow(/1-D array.*got 2/);
      expect(() => arr.at()).toThrow(/got 0/);
      expect(() => arr.at(3)).toThrow(/out of range/);
      expect(() => arr.at(-1)).toThrow(/non-negative integer/);
      expect(() => arr.at(1.5)).toThrow(/non-negative integer/);
      const group = charm.group(Boom);
      expect(() => group.at(2)).toThrow(CharmError);
      expect(() => group.at(2)).toThrow(/group over 2 PEs; index \[2\] is out of range/);
      expect(() => group.at(0, 1)).toThrow(/1-D group/);
      expect(await group.at(1).ok.ret(2)).toBe(4);
      const grid = charm.array(Boom, [2, 3]);
      expect(() => grid.at(1)).toThrow(/2-D array.*got 1/);
      expect(() => grid.at(0, 3)).toThrow(/out of range/);
      expect(() => charm.array(Boom, [1, 1, 1, 1, 1, 1, 1])).toThrow(/1 to 6 dimensions/);
      expect(() => charm.array(Boom, 0)).toThrow(/positive integer/);
      // Far past what the PEs' heaps hold: refused at the call, not a minute later by running out of memory.
      expect(() => charm.array(Boom, 2 ** 31)).toThrow(/2,147,483,648 elements put .* on each of the \d+ PEs.*more than a PE's heap.*run on more PEs/);
      expect(() => charm.array(Boom, [2 ** 16, 2 ** 16])).toThrow(/more than a PE's heap/);
      expect(() => charm.chare(Boom, [], { onPe: 2 })).toThrow(/onPe/);
      expect(() => (charm.array as any)(Opaque, 2)).toThrow(/extend Chare/);
      expect(() => new (Boom as any)()).toThrow(/created by the runtime/);
      expect(await grid.at(1, 2).ok.ret(3)).toBe(6);
      expect(await arr.at(2).ok.ret(3)).toBe(6);
    });

    it("an unknown reducer or a bad target fails the contributing entry method", async () => {
      const arr = charm.array(Boom, 2);
      const err = await rejection(arr.at(0).contributeWith.ret("nosuch", new Future()));
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.message).toMatch(/unknown reducer "nosuch"; known: sum, product/);
      const err2 = await rejection(arr.at(1).contributeWith.ret("sum", 42 as any));
      expect(err2.message).toMatch(/reduction target must be a Future or a bound entry method/);
      expect(() => new Future(0)).toThrow(/numVals must be a positive integer/);
      expect(await arr.ok.ret(1)).toEqual([2, 2]);
    });
  });
});

describe("shutting down", () => {
  it("rejects the driver's pending futures instead of leaving their awaiters hanging", async () => {
    await charm.start({ numPes: 2, modules: [fixtures] });
    const arr = charm.array(Boom, 2);
    expect(await arr.ok.ret(1)).toEqual([2, 2]);
    const neverAnswered = arr.at(1).waitForever.ret();
    const mine = new Future<number>();
    await charm.shutdown();
    await expect(Promise.resolve(neverAnswered)).rejects.toThrow(/the runtime was shut down before this future completed/);
    await expect(Promise.resolve(mine)).rejects.toThrow(CharmError);
  });
});

describe("after shutdown", () => {
  it("the runtime says it hasn't started, and starts again", async () => {
    expect(() => charm.array(Boom, 2)).toThrow(/hasn't started/);
    await charm.start({ numPes: 1, modules: [fixtures] });
    try {
      await expect(charm.start({ numPes: 1, modules: [fixtures] })).rejects.toThrow(/already running/);
      expect(await charm.array(Boom, 2).ok.ret(5)).toEqual([10, 10]);
    } finally {
      await charm.shutdown();
    }
  });
});
