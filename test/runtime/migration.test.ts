// Migration and AtSync load balancing, ported from Charm4Py's tests/migration and
// tests/load_balancing: state survives, the constructor isn't re-run, migrated() runs on the
// destination, messages in flight are forwarded, non-migratable elements stay. Both suites run
// on 2, 3 and 5 PEs: a move has three parties (the PE it leaves, the one it reaches, a third
// that learns the new address early) only from 3 PEs on. Placements and outcomes are computed
// from the PE count (block map: element i of n is on PE floor(i * numPes / n)).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future, RemoteError } from "../../runtime/index.ts";
import { maybeRt } from "../../runtime/core/current.ts";
import { proxyRef } from "../../runtime/core/proxy.ts";
import { Mover, Secretive, Sequenced, Sleeper, Stuck, Worker } from "./fixtures/migration.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { blockPe, range } from "./indices.ts";

const fixtures = new URL("./fixtures/migration.ts", import.meta.url).href;

/** A wait that fails after 10 s naming what it waited for and what each PE holds, instead of a vitest timeout. */
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 10_000, what, runtimeState);

describe.each([2, 3, 5])("migration on %i PEs", (numPes) => {
  const last = numPes - 1;
  beforeAll(() => charm.start({ numPes, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it("moves an element's own fields; the constructor does not run again; migrated() runs on arrival", async () => {
    // numPes + 1 elements: the block map puts the last one alone on the last PE, where element 0 goes.
    const n = numPes + 1;
    const movers = charm.array(Mover, n, { args: [1000] });
    const before = await waitFor(movers.at(0).where.ret(), "Mover[0].where before its move");
    expect(before.pe).toBe(0);
    const there = await waitFor(movers.at(n - 1).where.ret(), `Mover[${n - 1}].where on the last PE`);
    expect(there.pe).toBe(last);
    movers.at(0).moveTo(last);
    const after = await waitFor(movers.at(0).where.ret(), `Mover[0].where after its move to PE ${last}`);
    expect(after.pe).toBe(last);
    expect(after.history).toEqual(["constructed on PE 0", `arrived on PE ${last}`]);
    expect(after.sum).toBe(before.sum);
    expect(after.tags).toEqual([["born", 0]]);
    // The last PE constructed no Mover for the one that arrived.
    expect(after.constructedHere).toBe(there.constructedHere);
  });

  it("a moved chare has the same hidden class as one constructed there (hot methods stay monomorphic)", async () => {
    const n = numPes + 1; // the last element is on the last PE
    const movers = charm.array(Mover, n, { args: [4] });
    movers.at(0).moveTo(last);
    expect((await waitFor(movers.at(0).where.ret(), `Mover[0] to arrive on PE ${last}`)).pe).toBe(last);
    expect(await waitFor(movers.at(n - 1).sameShapeAs.ret(0), `Mover[${n - 1}].sameShapeAs(0)`)).toBe(true);
  });

  it("a channel in a moved chare's fields has the hidden class of a new channel", async () => {
    const movers = charm.array(Mover, 2, { args: [1] });
    await waitFor(movers.at(0).connect.awaitable(movers.at(1)), "Mover[0].connect");
    expect(await waitFor(movers.at(0).channelShapeOk.ret(), "Mover[0].channelShapeOk before its move")).toBe(true);
    movers.at(0).moveTo(last);
    expect(await waitFor(movers.at(0).channelShapeOk.ret(), `Mover[0].channelShapeOk after its move to PE ${last}`)).toBe(true);
  });

  it("the driver learns the new location, so its calls go straight there", async () => {
    const movers = charm.array(Mover, 2, { args: [1] });
    movers.at(0).moveTo(last);
    expect((await waitFor(movers.at(0).where.ret(), `Mover[0] to arrive on PE ${last}`)).pe).toBe(last);
    const ref = proxyRef(movers)!;
    expect(maybeRt()!.locate(ref, [0])).toBe(last); // told by the last PE before the element answered
    expect(maybeRt()!.locate(ref, [1])).toBe(blockPe(1, 2, numPes)); // its home
  });

  it("messages in flight to a moving element are forwarded, none lost, in order", async () => {
    const movers = charm.array(Mover, 1, { args: [1] });
    const el = movers.at(0);
    // Through every PE in turn and home again, with the 1,000 calls spread over the legs between moves.
    const route = [...range(numPes).slice(1), 0];
    let next = 1;
    route.forEach((pe, leg) => {
      el.moveTo(pe);
      if (leg === route.length - 1) return;
      const upTo = Math.round((1000 * (leg + 1)) / (route.length - 1));
      for (; next <= upTo; next++) el.add(next);
    });
    const w = await waitFor(el.where.ret(), `Mover[0] after moving along ${route.join(" → ")}`);
    expect(w.total).toBe(500500);
    expect(w.pe).toBe(0);
    expect(w.history).toEqual(["constructed on PE 0", ...route.map((pe) => `arrived on PE ${pe}`)]);
  });

  it("a broadcast racing a move runs exactly once on the moved element", async () => {
    const movers = charm.array(Mover, 6, { args: [1] });
    for (let round = 0; round < 30; round++) {
      movers.at(round % 6).moveTo((round * 7) % numPes);
      movers.ping();
    }
    const counts = await waitFor(movers.pingCount.ret(), "the Movers' ping counts after 30 broadcasts racing moves");
    expect(counts).toEqual([30, 30, 30, 30, 30, 30]);
  });

  it("proxies, channels and futures kept in fields work after the move", async () => {
    const movers = charm.array(Mover, 2, { args: [1] });
    // Element 1 moves on from its home, element 0 to PE 1: the peers must find each other again.
    const to1 = (blockPe(1, 2, numPes) + 1) % numPes;
    const to0 = 1;
    movers.at(0).connect(movers.at(1));
    movers.at(1).connect(movers.at(0));
    const kept = new Future<string>();
    movers.at(0).keep(kept);
    movers.at(0).send([1, 2]); // two values waiting in element 1's inbox when it moves
    movers.at(1).moveTo(to1);
    movers.at(0).moveTo(to0);
    movers.at(0).send([3, 4]);
    expect(await waitFor(movers.at(1).receive.ret(4), `Mover[1] (moved to PE ${to1}) to receive 4 channel values`)).toEqual([1, 2, 3, 4]);
    movers.at(1).send([9]);
    expect(await waitFor(movers.at(0).receive.ret(1), `Mover[0] (moved to PE ${to0}) to receive 1 channel value`)).toEqual([9]);
    expect(await waitFor(movers.at(0).askPeer.ret(), "Mover[0].askPeer")).toBe(to1);
    movers.at(0).answerKept();
    expect(await waitFor(kept, "the future Mover[0] kept in a field")).toBe(`answered on PE ${to0}`);
  });

  it("an element suspended in an async entry method moves once it returns", async () => {
    const movers = charm.array(Mover, 1, { args: [1] });
    const held = movers.at(0).hold.ret();
    movers.at(0).moveTo(last);
    movers.at(0).release();
    expect(await waitFor(held, "Mover[0].hold to return once released")).toBe(0); // its continuation ran where it started
    expect((await waitFor(movers.at(0).where.ret(), `Mover[0] to arrive on PE ${last}`)).pe).toBe(last);
  });

  it("calls waiting for their when-condition move with the element and run there, in order", async () => {
    const seq = charm.array(Sequenced, 2);
    const home1 = blockPe(1, 2, numPes);
    const replies = [4, 3].map((i) => seq.at(0).step.ret(i));
    seq.step(2); // a broadcast: element 0 must wait for it, element 1 too
    seq.at(0).moveTo(last);
    seq.at(1).step(0);
    seq.at(1).step(1);
    seq.at(0).step(1);
    seq.at(0).step(0);
    seq.at(1).step(3);
    expect(await waitFor(Promise.all(replies), "Sequenced[0].step(4) and step(3), waiting for their turn")).toEqual([4, 3]);
    expect(await waitFor(seq.at(0).log.ret(), "Sequenced[0].log")).toEqual(range(5).map((i) => [i, last]));
    expect(await waitFor(seq.at(1).log.ret(), "Sequenced[1].log")).toEqual(range(4).map((i) => [i, home1]));
  });

  it("reductions stay exact while contributors move between them", async () => {
    const n = 12;
    const movers = charm.array(Mover, n, { args: [1] });
    for (let step = 0; step < 10; step++) {
      const done = new Future<number>();
      for (let i = 0; i < n; i++) movers.at(i).step(i + step, done, (i + step) % 4 === 0 ? (i + step) % numPes : -1);
      expect(await waitFor(done, `reduction ${step} over ${n} Movers, some of them moving`)).toBe((n * (n - 1)) / 2 + n * step);
    }
    const sums = await waitFor(Promise.all(range(n).map((i) => movers.at(i).allSum.ret(i))), `an allreduce over ${n} Movers after their moves`);
    expect(sums).toEqual(new Array(n).fill((n * (n - 1)) / 2));
  });

  it("an element whose state can't be sent stays, and the caller is told why", async () => {
    const stuck = charm.array(Stuck, 1);
    await expect(waitFor(stuck.at(0).moveTo.awaitable(1), "Stuck[0].moveTo(1) to fail")).rejects.toThrow(/Stuck\[0\] can't migrate: .*Opaque/);
    expect(await waitFor(stuck.at(0).where.ret(), "Stuck[0].where")).toBe(0);
  });

  it("an element with #private members stays (they can't be copied), and the caller is told which and what to do", async () => {
    const secretive = charm.array(Secretive, 1);
    expect(await waitFor(secretive.at(0).bump.ret(), "Secretive[0].bump")).toBe(1);
    await expect(waitFor(secretive.at(0).moveTo.awaitable(1), "Secretive[0].moveTo(1) to fail")).rejects.toThrow(/Secretive\[0\] can't migrate: class Secretive has #private members \(#count, #next\).*plain members/);
    expect(await waitFor(secretive.at(0).where.ret(), "Secretive[0].where")).toBe(0);
    expect(await waitFor(secretive.at(0).bump.ret(), "Secretive[0].bump after the refused move")).toBe(2);
  });

  it("groups and singletons don't migrate; PE numbers are checked", async () => {
    const movers = charm.array(Mover, 1, { args: [1] });
    const outOfRange = new RegExp(`PE must be an integer in 0…${last}(?!\\d)`);
    await expect(movers.at(0).moveTo.awaitable(7)).rejects.toThrow(outOfRange);
    await expect(movers.at(0).moveTo.awaitable(numPes)).rejects.toThrow(outOfRange); // one past the last PE
    await expect(movers.at(0).moveTo.awaitable(1.5)).rejects.toBeInstanceOf(RemoteError);
    const group = charm.group(Stuck);
    await expect(group.at(0).moveTo.awaitable(1)).rejects.toThrow(/only array elements migrate \(this is a group element\)/);
  });
});

describe.each([2, 3, 5])("AtSync load balancing on %i PEs", (numPes) => {
  beforeAll(() => charm.start({ numPes, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it("AtSync on an array not created for it is a clear error", async () => {
    const plain = charm.array(Sleeper, 1);
    await expect(waitFor(plain.at(0).work.ret(0), "Sleeper[0].work to fail")).rejects.toThrow(/useAtSync: true/);
  });

  it("rotate moves every element each round; resumeFromSync runs once per element per round", async () => {
    const n = 8;
    const done = new Future<void>();
    const workers = charm.array(Worker, n, { args: [6, 2, done, []], useAtSync: true, balancer: "rotate" });
    workers.run();
    await waitFor(done, `${n} Workers to finish 6 steps with 3 rotate rounds`);
    const reports = await waitFor(workers.report.ret(), "the Workers' reports");
    reports.forEach((r, i) => {
      expect(r.resumed).toBe(3);
      // PE at each sync: its block-map home, then one PE further each round
      const home = blockPe(i, n, numPes);
      expect(r.pes).toEqual([home, (home + 1) % numPes, (home + 2) % numPes]);
    });
    const rounds = await waitFor(charm.lbHistory(workers), "charm.lbHistory of the rotated Workers");
    expect(rounds.map((r) => [r.round, r.balancer, r.moved])).toEqual([[0, "rotate", n], [1, "rotate", n], [2, "rotate", n]]);
  });

  it("non-migratable elements never move under a random strategy; the others do", async () => {
    const done = new Future<void>();
    const pinned = [0, 5, 9];
    const workers = charm.array(Worker, 12, { args: [10, 1, done, pinned], useAtSync: true, balancer: "random" });
    workers.run();
    await waitFor(done, "12 Workers to finish 10 steps with 10 random rounds");
    const reports = await waitFor(workers.report.ret(), "the Workers' reports");
    reports.forEach((r, i) => {
      if (pinned.includes(i)) expect(new Set([...r.pes, r.now])).toEqual(new Set([blockPe(i, 12, numPes)]));
    });
    expect(reports.filter((r, i) => !pinned.includes(i) && new Set([...r.pes, r.now]).size > 1).length).toBeGreaterThan(0);
  });

  it("greedy evens out an imbalanced array: the measured loads say so", async () => {
    const n = 8;
    // One heavy element per PE, the first ones: block-mapped, elements 0 and 1 (at least) start together on PE 0.
    const heavy = range(numPes);
    const steps = 10; // a round: 10 × 2 ms for a heavy element, 10 × 0.1 ms for a light one
    const heavyLoad = steps * 2;
    const done = new Future<void>();
    const workers = charm.array(Worker, n, { args: [2 * steps, steps, done, [], heavy], useAtSync: true, balancer: "greedy" });
    workers.run();
    await waitFor(done, `${n} Workers to finish ${2 * steps} steps with 2 greedy rounds`);
    const [first] = await waitFor(charm.lbHistory(workers), "charm.lbHistory of the greedy Workers");
    // Loads are wall-clock time: with more PEs than cores each PE's is stretched by its share of
    // the CPU (a light element may measure 20 ms), so heavy elements on different PEs measure
    // differently and no plan can even that out. Hence what greedy guarantees whatever the
    // stretching: busy waits never measure less than their time, and greedy gives each PE one
    // of the numPes heaviest elements before anything else, so every PE ends with a heavy one's worth.
    expect(first!.before[0]).toBeGreaterThanOrEqual(2 * heavyLoad); // two heavy elements at least
    expect(Math.min(...first!.after)).toBeGreaterThanOrEqual(heavyLoad);
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    expect(spread(first!.after)).toBeLessThan(spread(first!.before));
    expect(first!.after.reduce((a, b) => a + b)).toBeCloseTo(first!.before.reduce((a, b) => a + b), 6); // moved, not lost
  });

  it("time after an await in an async entry method counts as the element's load", async () => {
    const sleepers = charm.array(Sleeper, 2, { useAtSync: true, balancer: "none" });
    await waitFor(sleepers.work.awaitable(20), "both Sleepers' work(20)");
    await waitFor(charm.waitQD(), "quiescence after the balancing round"); // the balancing round that follows is over
    const [round] = await waitFor(charm.lbHistory(sleepers), "charm.lbHistory of the Sleepers");
    expect(round!.before[0]).toBeGreaterThanOrEqual(18);
    expect(round!.before[blockPe(1, 2, numPes)]).toBeGreaterThanOrEqual(36);
  });
});
