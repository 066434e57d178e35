// Two charm.checkpoint calls into one directory at the same time (a notebook's button pressed
// twice, a periodic save meeting a manual one): both resolve, so the directory must hold a whole
// checkpoint afterwards. Each call, once its manifest was written, removed every other
// checkpoint's files in the directory — those of the call still in progress too — so the
// directory was left with a manifest naming files that no longer exist.
import { afterEach, expect, it } from "vitest";
import { join } from "node:path";
import { charm, Future } from "../../runtime/index.ts";
import { Walker } from "./fixtures/checkpoint.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { tempDir } from "../temp-dir.ts";

const fixtures = new URL("./fixtures/checkpoint.ts", import.meta.url).href;
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 20_000, what, runtimeState);
afterEach(() => charm.shutdown());

type Walkers = ReturnType<typeof charm.array<typeof Walker>>;

it("checkpoints into one directory at the same time: each resolves, and the directory holds the last one, whole", async () => {
  await charm.start({ numPes: 3, modules: [fixtures] });
  const walkers = charm.array(Walker, 6);
  const done = new Future<number[]>();
  walkers.advance(2, done);
  await waitFor(done, "2 steps");
  const dir = join(tempDir("ckpt-concurrent"), "ckpt");
  const saved = await waitFor(Promise.all([1, 2, 3].map((k) => charm.checkpoint(dir, { walkers, k }))), "three checkpoints at once");
  expect(saved.map((s) => s.elements)).toEqual([6, 6, 6]);
  // A restore of the directory waits for the checkpoints into it, and for their removal of earlier files.
  const r = await waitFor(charm.restore<{ walkers: Walkers; k: number }>(dir), "restoring the directory");
  expect(r.k).toBe(3);
  expect((await waitFor(r.walkers.where.ret(), "the restored walkers")).map((x) => x.steps)).toEqual(new Array(6).fill(2));
});

it("a restore and a checkpoint of one directory asked for together: the restore reads the checkpoint that was there, whole; the new one replaces it after", async () => {
  await charm.start({ numPes: 3, modules: [fixtures] });
  const walkers = charm.array(Walker, 6);
  const dir = join(tempDir("ckpt-concurrent"), "ckpt");
  await waitFor(charm.checkpoint(dir, { walkers, k: 1 }), "the first checkpoint");
  const done = new Future<number[]>();
  walkers.advance(3, done);
  await waitFor(done, "3 steps");
  const [restored] = await waitFor(Promise.all([charm.restore<{ walkers: Walkers; k: number }>(dir), charm.checkpoint(dir, { walkers, k: 2 })]), "a restore and a checkpoint at once");
  expect(restored.k).toBe(1);
  expect((await waitFor(restored.walkers.where.ret(), "the walkers restored")).map((x) => x.steps)).toEqual(new Array(6).fill(0));
  const again = await waitFor(charm.restore<{ walkers: Walkers; k: number }>(dir), "restoring the new checkpoint");
  expect(again.k).toBe(2);
  expect((await waitFor(again.walkers.where.ret(), "the walkers of the new checkpoint")).map((x) => x.steps)).toEqual(new Array(6).fill(3));
});
