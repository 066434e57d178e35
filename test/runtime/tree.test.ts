// Reductions travel up a 4-ary tree of PEs to their root: pure arithmetic checked for every
// size and root, then reductions with elements moving on 2, 3 and 5 PEs (a root and its
// children) and on 11 PEs (a tree two levels deep).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future } from "../../runtime/index.ts";
import { parentPe } from "../../runtime/collectives/reduction.ts";
import { Red } from "./fixtures/reductions.ts";
import { Mover } from "./fixtures/migration.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { rt } from "../../runtime/core/current.ts";

/** A wait that fails after 10 s naming what it waited for and what each PE holds, instead of a vitest timeout. */
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 10_000, what, runtimeState);

describe("the reduction tree", () => {
  it("reaches the root from every PE, no PE has more than four children, depth is log4", () => {
    for (let numPes = 2; numPes <= 70; numPes++) {
      for (const root of [0, 1, numPes - 1, Math.floor(numPes / 2)]) {
        const children = new Map<number, number>();
        for (let pe = 0; pe < numPes; pe++) {
          let at = pe;
          let hops = 0;
          while (at !== root) {
            const up = parentPe(at, root, numPes);
            if (hops === 0) children.set(up, (children.get(up) ?? 0) + 1);
            at = up;
            hops++;
            expect(hops).toBeLessThanOrEqual(Math.ceil(Math.log(numPes) / Math.log(4)) + 1);
          }
        }
        expect(Math.max(...children.values())).toBeLessThanOrEqual(4);
      }
    }
  });
});

describe.each([2, 3, 5, 11])("reductions on %i PEs", (numPes) => {
  const modules = ["./fixtures/reductions.ts", "./fixtures/migration.ts"].map((m) => new URL(m, import.meta.url).href);
  beforeAll(() => charm.start({ numPes, modules }));
  afterAll(() => charm.shutdown());

  it("sum, gather in index order, and allreduce over 50 elements", async () => {
    const reds = charm.array(Red, 50);
    const done = new Future<number>();
    const barrier = new Future<undefined>();
    reds.reduceIndex(done, barrier);
    expect(await waitFor(done, "the sum over 50 elements")).toBe((50 * 49) / 2);
    await waitFor(barrier, "the barrier over 50 elements");
    const gathered = new Future<number[][]>();
    reds.gatherIndex(gathered);
    expect(await waitFor(gathered, "the gather over 50 elements")).toEqual(Array.from({ length: 50 }, (_, i) => [i]));
  });

  it("a sum into the driver's future comes straight from every PE on up to 8 PEs, from the root alone beyond", async () => {
    const reds = charm.array(Red, 50);
    await waitFor(charm.awaitCreation(reds), "the creation of 50 elements");
    const driver = rt();
    const before = [...driver.scheduler.traffic.handledFrom];
    const done = new Future<number>();
    const barrier = new Future<undefined>();
    reds.reduceIndex(done, barrier);
    expect(await waitFor(done, "the sum over 50 elements")).toBe((50 * 49) / 2);
    await waitFor(barrier, "the barrier over 50 elements");
    // Two reductions into driver futures: per PE, the messages the driver handled from it since.
    const fromPe = Array.from({ length: numPes }, (_, pe) => driver.scheduler.traffic.handledFrom[pe + 1]! - before[pe + 1]!);
    expect(fromPe).toEqual(Array.from({ length: numPes }, (_, pe) => (numPes <= 8 || pe === 0 ? 2 : 0)));
  });

  it("stays exact while elements move between PEs of different subtrees", async () => {
    const n = 33;
    const movers = charm.array(Mover, n, { args: [1] });
    for (let step = 0; step < 6; step++) {
      const done = new Future<number>();
      for (let i = 0; i < n; i++) movers.at(i).step(i, done, (i + step) % 5 === 0 ? (i * 7 + step) % numPes : -1);
      expect(await waitFor(done, `reduction ${step} over ${n} Movers, some of them moving`)).toBe((n * (n - 1)) / 2);
    }
    const sums = await waitFor(Promise.all(Array.from({ length: n }, (_, i) => movers.at(i).allSum.ret(1))), `an allreduce over ${n} Movers after their moves`);
    expect(sums).toEqual(new Array(n).fill(n));
  });
});
