// Migration and AtSync load balancing, ported from Charm4Py's tests/migration and
// tests/load_balancing: state survives, the constructor isn't re-run, migrated() runs on the
// destination, messages in flight are forwarded, non-migratable elements stay.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future, RemoteError } from "../../runtime/index.ts";
import { maybeRt } from "../../runtime/core/current.ts";
import { proxyRef } from "../../runtime/core/proxy.ts";
import { Mover, Sequenced, Sleeper, Stuck, Worker } from "./fixtures/migration.ts";

const fixtures = new URL("./fixtures/migration.ts", import.meta.url).href;

describe("migration", () => {
  beforeAll(() => charm.start({ numPes: 3, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it("moves an element's own fields; the constructor does not run again; migrated() runs on arrival", async () => {
    const movers = charm.array(Mover, 3, { args: [1000] });
    const before = await movers.at(0).where.ret();
    expect(before.pe).toBe(0);
    movers.at(0).moveTo(2);
    const after = await movers.at(0).where.ret();
    expect(after.pe).toBe(2);
    expect(after.history).toEqual(["constructed on PE 0", "arrived on PE 2"]);
    expect(after.sum).toBe(before.sum);
    expect(after.tags).toEqual([["born", 0]]);
    // PE 2 constructed only its own element (index 2), not the one that arrived.
    expect(after.constructedHere).toBe((await movers.at(2).where.ret()).constructedHere);
  });

  it("a moved chare has the same hidden class as one constructed there (hot methods stay monomorphic)", async () => {
    const movers = charm.array(Mover, 3, { args: [4] });
    movers.at(0).moveTo(2);
    expect((await movers.at(0).where.ret()).pe).toBe(2);
    expect(await movers.at(2).sameShapeAs.ret(0)).toBe(true);
  });

  it("a channel in a moved chare's fields has the hidden class of a new channel", async () => {
    const movers = charm.array(Mover, 2, { args: [1] });
    await movers.at(0).connect.awaitable(movers.at(1));
    expect(await movers.at(0).channelShapeOk.ret()).toBe(true);
    movers.at(0).moveTo(2);
    expect(await movers.at(0).channelShapeOk.ret()).toBe(true);
  });

  it("the driver learns the new location, so its calls go straight there", async () => {
    const movers = charm.array(Mover, 2, { args: [1] });
    movers.at(0).moveTo(1);
    expect((await movers.at(0).where.ret()).pe).toBe(1);
    const ref = proxyRef(movers)!;
    expect(maybeRt()!.locate(ref, [0])).toBe(1); // told by PE 1 before the element answered
    expect(maybeRt()!.locate(ref, [1])).toBe(1); // its home
  });

  it("messages in flight to a moving element are forwarded, none lost, in order", async () => {
    const movers = charm.array(Mover, 1, { args: [1] });
    const el = movers.at(0);
    el.moveTo(1);
    for (let i = 1; i <= 500; i++) el.add(i);
    el.moveTo(2);
    for (let i = 501; i <= 1000; i++) el.add(i);
    el.moveTo(0);
    const w = await el.where.ret();
    expect(w.total).toBe(500500);
    expect(w.pe).toBe(0);
    expect(w.history).toEqual(["constructed on PE 0", "arrived on PE 1", "arrived on PE 2", "arrived on PE 0"]);
  });

  it("a broadcast racing a move runs exactly once on the moved element", async () => {
    const movers = charm.array(Mover, 6, { args: [1] });
    for (let round = 0; round < 30; round++) {
      movers.at(round % 6).moveTo((round * 7) % 3);
      movers.ping();
    }
    const counts = await movers.pingCount.ret();
    expect(counts).toEqual([30, 30, 30, 30, 30, 30]);
  });

  it("proxies, channels and futures kept in fields work after the move", async () => {
    const movers = charm.array(Mover, 2, { args: [1] });
    movers.at(0).connect(movers.at(1));
    movers.at(1).connect(movers.at(0));
    const kept = new Future<string>();
    movers.at(0).keep(kept);
    movers.at(0).send([1, 2]); // two values waiting in element 1's inbox when it moves
    movers.at(1).moveTo(2);
    movers.at(0).moveTo(1);
    movers.at(0).send([3, 4]);
    expect(await movers.at(1).receive.ret(4)).toEqual([1, 2, 3, 4]);
    movers.at(1).send([9]);
    expect(await movers.at(0).receive.ret(1)).toEqual([9]);
    expect(await movers.at(0).askPeer.ret()).toBe(2);
    movers.at(0).answerKept();
    expect(await kept).toBe("answered on PE 1");
  });

  it("an element suspended in an async entry method moves once it returns", async () => {
    const movers = charm.array(Mover, 1, { args: [1] });
    const held = movers.at(0).hold.ret();
    movers.at(0).moveTo(1);
    movers.at(0).release();
    expect(await held).toBe(0); // its continuation ran where it started
    expect((await movers.at(0).where.ret()).pe).toBe(1);
  });

  it("calls waiting for their when-condition move with the element and run there, in order", async () => {
    const seq = charm.array(Sequenced, 2);
    const replies = [4, 3].map((i) => seq.at(0).step.ret(i));
    seq.step(2); // a broadcast: element 0 must wait for it, element 1 too
    seq.at(0).moveTo(2);
    seq.at(1).step(0);
    seq.at(1).step(1);
    seq.at(0).step(1);
    seq.at(0).step(0);
    seq.at(1).step(3);
    expect(await Promise.all(replies)).toEqual([4, 3]);
    expect(await seq.at(0).log.ret()).toEqual([[0, 2], [1, 2], [2, 2], [3, 2], [4, 2]]);
    expect(await seq.at(1).log.ret()).toEqual([[0, 1], [1, 1], [2, 1], [3, 1]]);
  });

  it("reductions stay exact while contributors move between them", async () => {
    const n = 12;
    const movers = charm.array(Mover, n, { args: [1] });
    for (let step = 0; step < 10; step++) {
      const done = new Future<number>();
      for (let i = 0; i < n; i++) movers.at(i).step(i + step, done, (i + step) % 4 === 0 ? (i + step) % 3 : -1);
      expect(await done).toBe((n * (n - 1)) / 2 + n * step);
    }
    const sums = await Promise.all(Array.from({ length: n }, (_, i) => movers.at(i).allSum.ret(i)));
    expect(sums).toEqual(new Array(n).fill((n * (n - 1)) / 2));
  });

  it("an element whose state can't be sent stays, and the caller is told why", async () => {
    const stuck = charm.array(Stuck, 1);
    await expect(stuck.at(0).moveTo.awaitable(1)).rejects.toThrow(/Stuck\[0\] can't migrate: .*Opaque/);
    expect(await stuck.at(0).where.ret()).toBe(0);
  });

  it("groups and singletons don't migrate; PE numbers are checked", async () => {
    const movers = charm.array(Mover, 1, { args: [1] });
    await expect(movers.at(0).moveTo.awaitable(7)).rejects.toThrow(/PE must be an integer in 0…2/);
    await expect(movers.at(0).moveTo.awaitable(1.5)).rejects.toBeInstanceOf(RemoteError);
    const group = charm.group(Stuck);
    await expect(group.at(0).moveTo.awaitable(1)).rejects.toThrow(/only array elements migrate \(this is a group element\)/);
  });
});

describe("AtSync load balancing", () => {
  beforeAll(() => charm.start({ numPes: 2, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it("AtSync on an array not created for it is a clear error", async () => {
    const plain = charm.array(Sleeper, 1);
    await expect(plain.at(0).work.ret(0)).rejects.toThrow(/useAtSync: true/);
  });

  it("rotate moves every element each round; resumeFromSync runs once per element per round", async () => {
    const done = new Future<void>();
    const workers = charm.array(Worker, 8, { args: [6, 2, done, []], useAtSync: true, balancer: "rotate" });
    workers.run();
    await done;
    const reports = await workers.report.ret();
    for (const r of reports) {
      expect(r.resumed).toBe(3);
      expect(r.pes).toEqual([r.pes[0], 1 - r.pes[0]!, r.pes[0]]); // PE at each sync: home, other, home
    }
    const rounds = await charm.lbHistory(workers);
    expect(rounds.map((r) => [r.round, r.balancer, r.moved])).toEqual([[0, "rotate", 8], [1, "rotate", 8], [2, "rotate", 8]]);
  });

  it("non-migratable elements never move under a random strategy; the others do", async () => {
    const done = new Future<void>();
    const pinned = [0, 5, 9];
    const workers = charm.array(Worker, 12, { args: [10, 1, done, pinned], useAtSync: true, balancer: "random" });
    workers.run();
    await done;
    const reports = await workers.report.ret();
    reports.forEach((r, i) => {
      if (pinned.includes(i)) expect(new Set([...r.pes, r.now]).size).toBe(1);
    });
    expect(reports.filter((r, i) => !pinned.includes(i) && new Set([...r.pes, r.now]).size > 1).length).toBeGreaterThan(0);
  });

  it("greedy evens out an imbalanced array: the measured loads say so", async () => {
    const done = new Future<void>();
    // Block-mapped on 2 PEs, the two heavy elements (0 and 1) both start on PE 0.
    const workers = charm.array(Worker, 8, { args: [4, 2, done, [], [0, 1]], useAtSync: true, balancer: "greedy" });
    workers.run();
    await done;
    const [first] = await charm.lbHistory(workers);
    expect(first!.before.reduce((a, b) => a + b)).toBeGreaterThan(0);
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    expect(first!.before[0]).toBeGreaterThan(first!.before[1]! + 4 * 0.8); // 2 × 4 ms against 6 × 0.4 ms
    // Greedy puts one heavy element on each PE: what is left is the light ones' imbalance.
    expect(spread(first!.after)).toBeLessThan(spread(first!.before) / 2);
  });

  it("time after an await in an async entry method counts as the element's load", async () => {
    const sleepers = charm.array(Sleeper, 2, { useAtSync: true, balancer: "none" });
    await sleepers.work.awaitable(20);
    await charm.waitQD(); // the balancing round that follows is over
    const [round] = await charm.lbHistory(sleepers);
    expect(round!.before[0]).toBeGreaterThanOrEqual(18);
    expect(round!.before[1]).toBeGreaterThanOrEqual(36);
  });
});
