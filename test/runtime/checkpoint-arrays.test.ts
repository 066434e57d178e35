// Checkpoints at AtSync barriers (checkpoint: { everySync }) with several load-balanced arrays that
// step independently: a due round of one array is held until the others are at their own due
// barrier (or out of a round), and all of them are saved at once. Without that, each array's
// checkpoint refused the other's elements mid-round, and none was ever taken.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { charm, Future, type RemoteError } from "../../runtime/index.ts";
import { Cell, Dozer, type Stall } from "./fixtures/sync-sim.ts";
import { setQuietWait } from "../../runtime/checkpoint/barrier.ts";
import { lastInMemoryCheckpoint } from "../../runtime/checkpoint/driver.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { tempDir } from "../temp-dir.ts";

const fixtures = new URL("./fixtures/sync-sim.ts", import.meta.url).href;
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 60_000, what, runtimeState);
const STEPS = 12;
afterEach(() => {
  charm.onError(undefined);
  return charm.shutdown();
});

type Cells = ReturnType<typeof charm.array<typeof Cell>>;

/** A ring of `n` cells that balances every step (rotate: every element moves each round). */
function ring(n: number): Cells {
  return charm.array(Cell, n, { args: [n], useAtSync: true, balancer: "rotate" });
}

/** A stall at `step` on PE `pe`. */
function stallAt(pe: number, step: number): Stall {
  return { pe, step, marker: join(tempDir("ckpt-arrays"), "stalled"), reached: new Future<number>() };
}

/** What two uninterrupted rings of 10 and 7 cells end with after STEPS steps. */
async function straight(): Promise<[number[], number[]]> {
  const [a, b] = [straightRing(10), straightRing(7)];
  return [await a, await b];
}

/** What an uninterrupted ring of `n` cells ends with after STEPS steps. */
function straightRing(n: number): Promise<number[]> {
  const done = new Future<number[]>();
  ring(n).run(STEPS, done);
  return waitFor(done, `an uninterrupted ring of ${n}`);
}

/** Runs `work`; resolves with the warnings charm4ts wrote to stderr meanwhile. */
async function warningsFrom(work: () => Promise<void>): Promise<string[]> {
  const warnings: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: any[]) => {
    if (String(chunk).startsWith("charm4ts: warning")) warnings.push(String(chunk));
    return write(chunk as any, ...rest);
  }) as typeof process.stderr.write;
  try {
    await work();
  } finally {
    process.stderr.write = write;
  }
  return warnings;
}

/** Errors nobody awaited, from now on. */
function unhandled(): RemoteError[] {
  const errors: RemoteError[] = [];
  charm.onError((err) => errors.push(err));
  return errors;
}

/** Loses PE `pe`: its process killed with SIGKILL, or (a thread) restarted in place. */
async function lose(transport: "threads" | "processes", pe: number): Promise<void> {
  if (transport === "threads") {
    await waitFor(charm.restartPe(pe), `PE ${pe}'s thread to restart`);
    return;
  }
  const pid = (await waitFor(charm.status(), "charm.status()")).pes[pe]!.pid;
  process.kill(pid, "SIGKILL");
}

const RUNS = [["threads", 2], ["threads", 3], ["threads", 5], ["processes", 3]] as const;

describe.each(RUNS)("everySync with two balanced arrays over %s on %i PEs", (transport, numPes) => {
  it("a PE lost while both are mid-run: both go back to their shared barrier checkpoint and finish as runs that lost nothing", async () => {
    await charm.start({ numPes, modules: [fixtures], checkpoint: { everySync: 2 }, transport });
    const errors = unhandled();
    const lost = numPes - 1;
    const [a, b] = [ring(10), ring(7)];
    const [doneA, doneB] = [new Future<number[]>(), new Future<number[]>()];
    // Both stall at step 7: the last barrier both passed is round 6's, a due one.
    const [stallA, stallB] = [stallAt(lost, 7), stallAt(lost, 7)];
    a.run(STEPS, doneA, [stallA]);
    b.run(STEPS, doneB, [stallB]);
    await waitFor(stallA.reached, `the ring of 10 to stall at step 7 on PE ${lost}`);
    await waitFor(stallB.reached, `the ring of 7 to stall at step 7 on PE ${lost}`);
    // No checkpoint was refused on the way (the loss itself is reported once it happens).
    expect(errors.map((e) => e.message)).toEqual([]);
    await lose(transport, lost);
    const recovered = [await waitFor(doneA, "the ring of 10 to finish after recovery"), await waitFor(doneB, "the ring of 7 to finish after recovery")];
    for (const [sim, n] of [[a, 10], [b, 7]] as const) {
      const where = await waitFor(sim.where.ret(), `where every cell of the ring of ${n} is`);
      expect(where.map((w) => [w.step, w.restored])).toEqual(new Array(n).fill([STEPS, 1]));
    }
    expect(recovered).toEqual(await straight());
  }, 120_000);
});

describe.each([2, 3, 5])("everySync with an array stuck mid-round on %i PEs", (numPes) => {
  it("the other's due checkpoints are skipped without an error; a PE lost later goes back to the last one taken, and both finish", async () => {
    await charm.start({ numPes, modules: [fixtures], checkpoint: { everySync: 2 } });
    const errors = unhandled();
    const lost = numPes - 1;
    const [a, b] = [ring(10), ring(7)];
    const [doneA, doneB] = [new Future<number[]>(), new Future<number[]>()];
    // The ring of 7 stops at step 5 (after round 4's checkpoint, taken with both at their
    // barriers) with some elements at AtSync: the ring of 10's due barriers 6, 8, 10 and 12 find it
    // mid-round, and are skipped (fewer than the warning's 5).
    const stuck = stallAt(lost, 5);
    a.run(STEPS, doneA);
    b.run(STEPS, doneB, [stuck]);
    await waitFor(stuck.reached, `the ring of 7 to stall at step 5 on PE ${lost}`);
    const finished = await waitFor(doneA, "the ring of 10 to finish while the ring of 7 is stuck");
    expect(errors.map((e) => e.message)).toEqual([]);
    await lose("threads", lost);
    // Both go back to round 4: the ring of 7 gets past its stall (once only), the ring of 10 replays its steps.
    const unstuck = await waitFor(doneB, "the ring of 7 to finish after recovery");
    for (const [sim, n] of [[a, 10], [b, 7]] as const) {
      const where = await waitFor(sim.where.ret(), `where every cell of the ring of ${n} is`);
      expect(where.map((w) => [w.step, w.restored])).toEqual(new Array(n).fill([STEPS, 1]));
    }
    expect([finished, unstuck]).toEqual(await straight());
  }, 120_000);
});

describe.each([2, 3, 5])("everySync while the runtime is never quiescent, on %i PEs", (numPes) => {
  afterEach(() => setQuietWait(undefined));

  it("a loop on the driver stepping another array: its calls wait at each due barrier, so every checkpoint is taken, with no warning", async () => {
    setQuietWait(3000); // the wait the loop would otherwise run out at each due barrier
    await charm.start({ numPes, modules: [fixtures], checkpoint: { everySync: 2 } });
    const errors = unhandled();
    const warnings = warningsFrom(async () => {
      const other = charm.array(Cell, 4, { args: [4] });
      let calls = 0;
      let stopped = false;
      const loop = (async () => { while (!stopped) { await other.where.ret(); calls++; } })();
      const done = new Future<number[]>();
      ring(10).run(STEPS, done);
      const values = await waitFor(done, "the ring of 10 to finish while the driver loops");
      stopped = true;
      await waitFor(loop, "the driver's loop to end");
      expect(calls).toBeGreaterThan(0);
      expect(values).toEqual(await straightRing(10));
    });
    expect(await warnings).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(lastInMemoryCheckpoint()?.atSync).toHaveLength(1); // the last due barrier's, taken
  }, 120_000);

  it("a chare sleeping in a loop: each due checkpoint is skipped after the bounded wait, with one warning, and the array finishes", async () => {
    setQuietWait(200);
    await charm.start({ numPes, modules: [fixtures], checkpoint: { everySync: 2 } });
    const errors = unhandled();
    const warnings = await warningsFrom(async () => {
      const dozer = charm.chare(Dozer);
      const [started, dozed] = [new Future<number>(), new Future<number>()];
      dozer.doze(started, dozed);
      await waitFor(started, "the dozer's first nap");
      const done = new Future<number[]>();
      ring(10).run(STEPS, done);
      // Without the bounded wait the ring waited at its first due barrier for good.
      const values = await waitFor(done, "the ring of 10 to finish while a chare dozes");
      dozer.stop();
      expect(await waitFor(dozed, "the dozer to stop")).toBeGreaterThan(1);
      expect(values).toEqual(await straightRing(10));
    });
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^charm4ts: warning: the checkpoint at an AtSync barrier \(checkpoint: \{ everySync: 2 \}\) was skipped: the runtime wasn't quiescent within 0\.2 s .*charm\.sleep/);
  }, 120_000);
});
