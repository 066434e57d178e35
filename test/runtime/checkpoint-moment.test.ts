// A checkpoint taken while the driver keeps sending (checkpoint/moment.ts): a loop that steps the
// chares from the driver, as a notebook's steering loop does, pauses at its next send; the
// checkpoint lands between two steps, no step reaches a chare while it is saved, and the loop
// goes on. What the driver sends once charm.checkpoint is called goes after the save. Chares that
// keep themselves busy (never quiescent) don't hold the driver's messages for good.
import { readdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { charm, Future } from "../../runtime/index.ts";
import { setHoldAhead } from "../../runtime/checkpoint/moment.ts";
import { Keeper } from "./fixtures/checkpoint.ts";
import { Dozer } from "./fixtures/sync-sim.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { tempDir } from "../temp-dir.ts";
import { TRANSPORTS, over, type TransportName } from "./transports.ts";

const fixtures = [new URL("./fixtures/checkpoint.ts", import.meta.url).href, new URL("./fixtures/sync-sim.ts", import.meta.url).href];
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 30_000, what, runtimeState);
const N = 12;
afterEach(async () => {
  setHoldAhead(undefined);
  await charm.shutdown();
});

type Keepers = ReturnType<typeof charm.array<typeof Keeper>>;

/** Starts the runtime and an array of filled Keepers. */
async function keepers(numPes: number, transport: TransportName = "threads"): Promise<Keepers> {
  await charm.start({ numPes, modules: fixtures, ...over(transport) });
  const k = charm.array(Keeper, N, { args: [1] });
  await waitFor(k.fill.awaitable(), "Keeper.fill");
  return k;
}

/** The step each restored element was saved at, checking it is whole: every value of `big` painted with it. */
async function savedSteps(dir: string): Promise<number[]> {
  const { k } = await waitFor(charm.restore<{ k: Keepers }>(dir), "the restore");
  const digests = await waitFor(k.digest.ret(), "the restored elements' state");
  return digests.map((d) => {
    expect(new Set(d.big)).toEqual(new Set([d.hits]));
    return d.hits;
  });
}

/** A loop that paints every element with step 1, 2, 3… from the driver, each step awaited, until stopped. */
function steppingLoop(k: Keepers) {
  let step = 0;
  let stopped = false;
  let waiter: { at: number; reached: () => void } | undefined;
  const running = (async () => {
    while (!stopped) {
      await k.paint.awaitable(++step);
      if (waiter && step >= waiter.at) waiter.reached();
    }
  })();
  return {
    get step() { return step; },
    /** Resolves once step `n` is done. */
    reach: (n: number) => new Promise<void>((reached) => { waiter = { at: n, reached }; }),
    stop: () => { stopped = true; return running; },
  };
}

describe.each([...TRANSPORTS.map((t) => [t, 3] as const), ["threads", 2] as const, ["threads", 5] as const])("over %s on %i PEs", (transport, numPes) => {
  it("a loop stepping the chares from the driver: the checkpoint lands between two steps, whole, and the loop goes on", async () => {
    const k = await keepers(numPes, transport);
    const loop = steppingLoop(k);
    await waitFor(loop.reach(5), "5 steps of the loop");
    const dir = tempDir("checkpoint-moment");
    await waitFor(charm.checkpoint(dir, { k }), "a checkpoint while the loop steps");
    const after = loop.step;
    await waitFor(loop.reach(after + 5), "5 more steps after the checkpoint");
    await waitFor(loop.stop(), "the loop to end");
    const steps = await savedSteps(dir);
    expect(new Set(steps).size).toBe(1); // every element at the same step: taken between two
    expect(steps[0]).toBeGreaterThanOrEqual(5);
    expect(steps[0]).toBeLessThanOrEqual(after);
  }, 60_000);
});

it("what the driver sends once charm.checkpoint is called goes after the save; waitQD isn't fooled by the quiet of the save", async () => {
  const k = await keepers(3);
  await waitFor(k.paint.awaitable(1), "step 1");
  const dir = tempDir("checkpoint-moment");
  // Messages each PE has handled (charm.status is a control query: answered while calls are held).
  const handled = async () => (await waitFor(charm.status(), "charm.status()")).pes.map((p) => p.handled);
  const before = await handled();
  const saved = charm.checkpoint(dir, { k }); // not awaited: the next line's step goes after it
  k.paint(2);
  // The runtime is quiet while it saves, but with step 2 held that isn't quiescence for anyone else.
  await waitFor(charm.waitQD(), "quiescence after the checkpoint and step 2");
  const atQuiet = await handled();
  expect(atQuiet.map((n, pe) => n > before[pe]!)).toEqual([true, true, true]); // step 2 had reached every PE
  expect((await waitFor(k.digest.ret(), "the live elements")).map((d) => d.hits)).toEqual(new Array(N).fill(2));
  await waitFor(saved, "the checkpoint");
  expect(await savedSteps(dir)).toEqual(new Array(N).fill(1));
});

it("chares that never let the runtime be quiescent: the driver's messages go after the hold ahead, and the checkpoint is taken once they stop", async () => {
  await charm.start({ numPes: 2, modules: fixtures });
  setHoldAhead(100);
  const dozer = charm.chare(Dozer);
  const [started, dozed] = [new Future<number>(), new Future<number>()];
  dozer.doze(started, dozed);
  await waitFor(started, "the dozer's first nap");
  const dir = tempDir("checkpoint-moment");
  const saved = charm.checkpoint(dir, { dozer });
  // Held while the checkpoint waits for quiescence (the dozer's naps prevent it), then let go.
  await waitFor(dozer.stop.awaitable(), "stop() to reach the dozer");
  expect(await waitFor(dozed, "the dozer to stop")).toBeGreaterThan(0);
  const info = await waitFor(saved, "the checkpoint, once the dozer stopped");
  expect(info.elements).toBe(1);
});

// The files of a checkpoint replaced in its directory are removed in the background: never the
// files of the checkpoint that replaced them, nor of one started right after.
it("checkpoints in a row into one directory: each is whole when its call resolves", async () => {
  const k = await keepers(2);
  const dir = tempDir("checkpoint-moment");
  for (let step = 1; step <= 4; step++) {
    await waitFor(k.paint.awaitable(step), `step ${step}`);
    await waitFor(charm.checkpoint(dir, { k }), `checkpoint ${step}`);
    expect(await savedSteps(dir)).toEqual(new Array(N).fill(step));
  }
});

// Writing a PE's part takes time with no message moving: it counts as work in flight, or a
// notebook's hang check (quiescent + futures pending) would call a long save a cell nothing answers.
it("a save in progress is work in flight: waitQD during it resolves only once every PE's file and the manifest are in place", async () => {
  await charm.start({ numPes: 3, modules: fixtures });
  const k = charm.array(Keeper, 3000, { args: [1] });
  await waitFor(k.fill.awaitable(), "Keeper.fill");
  await waitFor(charm.checkpoint(tempDir("checkpoint-moment"), {}), "a first checkpoint elsewhere (the checkpoint code loads on first use)");
  const dir = tempDir("checkpoint-moment");
  // A large named value makes the manifest, written last by the driver, take a while: the save
  // is whole (and no .tmp- file left) only once it is in place.
  const saved = charm.checkpoint(dir, { k, notes: new Float64Array(1 << 20).fill(0.5) });
  // The first quiescence is the checkpoint's own moment (the save starts right after it); the next is after the save.
  await waitFor(charm.waitQD(), "the checkpoint's moment");
  await waitFor(charm.waitQD(), "quiescence after the save");
  const files = readdirSync(dir);
  expect(files.filter((f) => f.includes(".tmp-"))).toEqual([]);
  expect(files.filter((f) => f.endsWith(".bin"))).toHaveLength(3); // every PE's file written and in place
  expect(files).toContain("manifest.json");
  await waitFor(saved, "the checkpoint");
});
