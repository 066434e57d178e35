// The task pool: results in input order, spread over the PEs, exceptions to the caller, nested use.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, RemoteError } from "../../runtime/index.ts";
import { Pinger, busyFor, failOn13, poolFib, square, whereAmI } from "./fixtures/pool.ts";
import { registerTask, taskFnSoon } from "../../runtime/pool/tasks.ts";

const fixtures = new URL("./fixtures/pool.ts", import.meta.url).href;

describe.each([1, 3])("charm.pool on %i PE(s)", (numPes) => {
  beforeAll(() => charm.start({ numPes, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it("maps a function over items: the same results as a loop, in input order", async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    expect(await charm.pool.map(square, items)).toEqual(items.map(square));
    expect(await charm.pool.map(square, items, { chunkSize: 7 })).toEqual(items.map(square));
    expect(await charm.pool.map(square, [])).toEqual([]);
  });

  it("a chunk of long tasks lets its PE answer other calls meanwhile (it held the PE for the whole chunk)", async () => {
    // One chunk of 40 tasks of 30 ms: a map's first chunk goes to the PE after the driver's (PE 0).
    const onZero = charm.chare(Pinger, [], { onPe: 0 });
    const done = new Int32Array(new SharedArrayBuffer(4));
    expect(await onZero.tasksDone.ret(done)).toBe(0);
    const mapped = charm.pool.map(busyFor, Array(40).fill({ ms: 30, done }), { chunkSize: 40 });
    // Sent after the chunk, to the same PE: handled at the chunk's first pause, not after its last task.
    expect(await onZero.tasksDone.ret(done)).toBeLessThan(40);
    expect(await mapped).toEqual(Array(40).fill(0));
    expect(Atomics.load(done, 0)).toBe(40);
  });

  it("spreads the work over every PE", async () => {
    const placed = await charm.pool.map(whereAmI, Array.from({ length: 40 }, (_, i) => i), { chunkSize: 1 });
    expect(placed.map(([x]) => x)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(new Set(placed.map(([, pe]) => pe)).size).toBe(numPes);
  });

  it("runs single tasks", async () => {
    expect(await charm.pool.task(square, 12)).toBe(144);
  });

  it("delivers a task's exception to the caller, and keeps working", async () => {
    const err = await charm.pool.map(failOn13, Array.from({ length: 20 }, (_, i) => i)).then(() => undefined, (e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.remoteMessage).toBe("unlucky 13");
    expect(await charm.pool.map(square, [2, 3])).toEqual([4, 9]);
  });

  it("runs nested maps from async tasks (recursive Fib on the pool)", async () => {
    expect(await charm.pool.task(poolFib, 18)).toBe(2584);
  });

  it("says how to make an unknown function known", async () => {
    const local = (x: number) => x;
    const err = await charm.pool.map(local, [1]).then(() => undefined, (e) => e);
    expect(err.message).toContain("task function local is not known on PE");
  });
});

describe("a task a notebook is still defining (its definition overtaken by another PE's task)", () => {
  it("is waited for, then run; one that never comes fails with the usual error", async () => {
    const pending = taskFnSoon("lateTask", 1, 2000);
    registerTask(function lateTask(x: number) { return x + 1; });
    expect((await pending)(41)).toBe(42);
    await expect(taskFnSoon("neverDefined", 1, 20)).rejects.toThrow(/task function neverDefined is not known on PE 1/);
  });
});
