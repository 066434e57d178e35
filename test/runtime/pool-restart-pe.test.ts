// charm.pool after one of its PEs is restarted in place (charm.restartPe, what the kernel does
// after an interrupt for a PE stuck in an entry method): the map that was running there rejects
// with PeLostError, and the next pool call works on every PE, the restarted one included —
// nested maps from tasks too. On 2, 3 and 5 PE threads (restartPe is for threads).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, PeLostError } from "../../runtime/index.ts";
import { poolFib, square, stallOn, whereAmI, type Stall } from "./fixtures/pool.ts";
import { bounded } from "../bounded.ts";

const fixtures = new URL("./fixtures/pool.ts", import.meta.url).href;

/** 0 … n-1. */
function upTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

// Node has Atomics.waitAsync; the ES2023 library this project compiles against doesn't declare it yet.
const { waitAsync } = Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: unknown } };

/** Resolves once the task stalling on its PE has set its flag (Atomics.waitAsync: no polling). */
function stalling(flag: Int32Array): Promise<unknown> {
  const wait = waitAsync(flag, 0, 0);
  return wait.async ? (wait.value as Promise<unknown>) : Promise.resolve();
}

/** Every PE runs pool tasks again, a plain map, a single task and nested maps from tasks. */
async function poolWorksOnEveryPe(numPes: number, after: string): Promise<void> {
  const placed = await bounded(charm.pool.map(whereAmI, upTo(4 * numPes), { chunkSize: 1 }), 20_000, `a pool map ${after}`);
  expect(placed.map(([x]) => x)).toEqual(upTo(4 * numPes));
  expect(new Set(placed.map(([, pe]) => pe))).toEqual(new Set(upTo(numPes)));
  expect(await bounded(charm.pool.task(square, 12), 20_000, `a pool task ${after}`)).toBe(144);
  expect(await bounded(charm.pool.task(poolFib, 16), 30_000, `nested pool maps ${after}`)).toBe(987);
}

describe.each([2, 3, 5])("charm.pool when a PE is restarted (%i PE threads)", (numPes) => {
  beforeAll(() => charm.start({ numPes, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it.each([["the last PE", numPes - 1], ["PE 0", 0]])("a map stuck on %s: it rejects with PeLostError when the PE is restarted; the next pool calls work", async (_which, pe) => {
    await poolWorksOnEveryPe(numPes, "before the restart");
    const stall: Stall = { pe, flag: new Int32Array(new SharedArrayBuffer(4)) };
    // With chunks of one, the driver's map sends item i to PE i.
    const running = charm.pool.map(stallOn, upTo(numPes).map(() => stall), { chunkSize: 1 });
    const outcome = running.then(() => "resolved", (e: unknown) => e); // handled now: it rejects during the restart
    try {
      await bounded(stalling(stall.flag), 20_000, `the task on PE ${pe} to start stalling`);
      await bounded(charm.restartPe(pe, "was stuck (test)"), 20_000, `PE ${pe}'s restart`);
    } finally {
      Atomics.store(stall.flag, 0, 2); // lets a task still stalling go if the test failed before the restart
    }
    const lost = await bounded(outcome, 20_000, "the stuck map to reject");
    expect(lost).toBeInstanceOf(PeLostError);
    expect((lost as Error).message).toMatch(new RegExp(`^PE ${pe} was stuck \\(test\\); PoolWorker\\[${pe}\\]\\.run was waiting on it`));
    await poolWorksOnEveryPe(numPes, `after PE ${pe} was restarted`);
  });

  it("PEs restarted while the pool is idle, one after another: each next pool call works", async () => {
    for (let round = 0; round < 3; round++) {
      const pe = (round * 2) % numPes;
      await bounded(charm.restartPe(pe, `was restarted (round ${round})`), 20_000, `PE ${pe}'s restart in round ${round}`);
      await poolWorksOnEveryPe(numPes, `after round ${round}'s restart of PE ${pe}`);
    }
  });
});
