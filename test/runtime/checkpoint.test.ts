// Checkpoint and restore: every kind of chare state survives a checkpoint made on one number of
// PEs and restored in a fresh runtime on another (2 ↔ 3 ↔ 5), over threads and processes; the
// constructors don't run again, restored() does, and the proxies, futures, channels (with
// values sent before the checkpoint and not yet received) and sections in the state work.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { charm, Future, type StartOptions } from "../../runtime/index.ts";
import { Bag, Keeper, PerPe } from "./fixtures/checkpoint.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/checkpoint.ts", import.meta.url).href;
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 20_000, what, runtimeState);
const N = 7; // Keeper elements: uneven over 2, 3 and 5 PEs

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "charm4ts-ckpt-"));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await charm.shutdown();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Builds collections of every kind, with state of every kind; returns what a checkpoint names. */
async function build(numPes: number) {
  const keepers = charm.array(Keeper, N, { args: [10] });
  await waitFor(keepers.fill.awaitable(), "Keeper.fill");
  const [section] = charm.split(keepers, 1, { by: (idx) => (idx[0]! % 2 === 0 ? 0 : -1) });
  const done = new Future<number>();
  for (let i = 0; i < N; i++) keepers.at(i).remember(keepers.at((i + 1) % N), done, section!);
  keepers.at(0).connect(keepers.at(1));
  keepers.at(1).connect(keepers.at(0));
  keepers.at(0).sendSome(5, 100); // in keeper 1's inbox, not received, at the checkpoint
  section!.hit();
  const group = charm.group(PerPe);
  for (let pe = 0; pe < numPes; pe++) group.at(pe).add(10 * (pe + 1));
  const single = charm.chare(Bag, [{ list: [1, "two", { three: 3n }], ints: new Int32Array([4, 5, 6]) }], { onPe: numPes - 1 });
  const sparse = charm.sparseArray(Bag);
  for (const i of [3, 42, 100]) charm.insert(sparse, i, [{ i, square: i * i }]);
  await waitFor(charm.doneInserting(sparse), "doneInserting");
  return { keepers, section: section!, done, group, single, sparse };
}

type Named = Awaited<ReturnType<typeof build>>;

async function observe(n: Named) {
  return {
    keepers: await waitFor(n.keepers.digest.ret(), "Keeper digests"),
    single: (await waitFor(n.single.get.ret(), "the singleton's state")).data,
    sparse: (await waitFor(n.sparse.get.ret(), "the sparse elements' state")).map((b) => [b.index, b.data]),
  };
}

async function roundTrip(from: number, to: number, transport: StartOptions["transport"] = "threads"): Promise<void> {
  const dir = freshDir();
  await charm.start({ numPes: from, modules: [fixtures], transport });
  const named = await build(from);
  const before = await observe(named);
  const groupBefore = await waitFor(named.group.state.ret(), "PerPe states");
  const info = await waitFor(charm.checkpoint(dir, named), "charm.checkpoint");
  expect(info).toMatchObject({ pes: from, elements: N + from + 1 + 3 });
  await charm.shutdown();

  await charm.start({ numPes: to, modules: [fixtures], transport });
  const warned: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((text: string | Uint8Array, ...rest: any[]) => { warned.push(String(text)); return write.call(process.stderr, text, ...rest); }) as typeof write;
  const r = await waitFor(charm.restore<Named>(dir), "charm.restore").finally(() => { process.stderr.write = write; });
  // On fewer PEs, the group elements of the PEs past the new count are said to be dropped.
  const dropped = warned.filter((w) => w.includes("were not restored") || w.includes("was not restored"));
  expect(dropped).toHaveLength(from > to ? 1 : 0);
  if (from > to) expect(dropped[0]).toContain(`of group PerPe, ${from - to === 1 ? `PE ${to}'s element` : `the elements of PEs ${to}–${from - 1}`}`);
  expect(await observe(r)).toEqual(before);
  // No constructor ran on the new PEs; restored() ran on each element where it lives now.
  for (const w of await waitFor(r.keepers.where.ret(), "Keeper.where")) {
    expect(w.constructedHere).toBe(0);
    expect(w.restoredOn).toBe(w.pe);
  }
  expect((await waitFor(r.single.get.ret(), "the singleton")).pe).toBe((from - 1) % to);
  // A group has one element per PE now: PE p holds what PE p mod `from` held.
  const groups = await waitFor(r.group.state.ret(), "PerPe states after restore");
  expect(groups.map((g) => [g.index, g.pe, g.restoredOn, g.count])).toEqual(
    Array.from({ length: to }, (_, p) => [p, p, p, groupBefore[p % from]!.count]));
  // Channel values sent before the checkpoint arrive, in order, then new ones.
  expect(await waitFor(r.keepers.at(1).receive.ret(5), "the 5 channel values in flight")).toEqual([0, 1, 2, 3, 4].map((k) => [100 + k, 0]));
  r.keepers.at(0).sendSome(2, 200);
  expect(await waitFor(r.keepers.at(1).receive.ret(2), "2 channel values after restore")).toEqual([[200, 0], [201, 0]]);
  // Proxies, futures and sections in the state (and among the named values) work.
  expect(await waitFor(r.keepers.at(2).askPeer.ret(), "Keeper[2].askPeer")).toBe("keeper-3");
  r.keepers.at(4).resolveDone();
  expect(await waitFor(r.done, "the future saved in every Keeper's state")).toBe(4);
  const sum = new Future<number>();
  r.section.sectionSum(sum);
  expect(await waitFor(sum, "a reduction over the restored section")).toBe([0, 2, 4, 6].reduce((a, i) => a + 10 + i, 0));
  r.section.hit();
  const hits = (await waitFor(r.keepers.digest.ret(), "digests after a multicast")).map((d) => d.hits);
  expect(hits).toEqual(Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 2 : 0)));
}

describe("checkpoint and restore on another number of PEs (threads)", () => {
  it.each([[2, 3], [3, 5], [5, 2], [3, 2], [2, 2]])("%i PEs → %i PEs", (from, to) => roundTrip(from, to), 60_000);
});

describe("checkpoint and restore with PE processes", () => {
  it.each([[2, 3], [3, 2]])("%i PEs → %i PEs", (from, to) => roundTrip(from, to, "processes"), 90_000);
});
