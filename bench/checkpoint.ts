/**
 * Checkpoint and restore to disk on 2 PEs, each beside its plain-fs floor from the same run:
 * the same bytes in the same number of files, written in parallel (writev, fsync, rename) and
 * read back (readFile), with no encoding, hashing or chares.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { open, readFile, readdir, rename, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { charm } from "../runtime/index.ts";
import { Blob } from "./chares.ts";
import { median, medianOf, type Row } from "./row.ts";

const only = process.env.BENCH?.toLowerCase().split(",").filter(Boolean);
const want = (name: string): boolean => !only || only.some((w) => name.toLowerCase().includes(w));

const ms = async (fn: () => PromiseLike<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

/** Writes `sizes[i]` bytes to file i, all files at once, in chunks of `chunk` bytes, then fsync and rename. */
async function plainWrite(dir: string, sizes: number[], chunk: number): Promise<void> {
  const block = Buffer.alloc(chunk, 7);
  await Promise.all(sizes.map(async (size, i) => {
    const path = join(dir, `floor-${i}.bin`);
    const fh = await open(`${path}.tmp`, "w");
    for (let left = size; left > 0; left -= 4 * chunk) {
      const n = Math.min(4, Math.ceil(left / chunk));
      await fh.writev(Array.from({ length: n }, (_, k) => (k === n - 1 && left < n * chunk ? block.subarray(0, left - (n - 1) * chunk) : block)));
    }
    await fh.sync();
    await fh.close();
    await rename(`${path}.tmp`, path);
  }));
}

/** Reads the floor's files back, all at once. */
async function plainRead(dir: string, count: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, (_, i) => readFile(join(dir, `floor-${i}.bin`))));
}

/**
 * The byte size of every PE file of the checkpoint in `dir`, as its manifest lists them, once the
 * files of the checkpoints it replaced are gone (removed in the background: the floor measured
 * next mustn't share the disk with that).
 */
async function fileSizes(dir: string): Promise<number[]> {
  const { files } = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as { files: Array<{ name: string }> };
  const current = new Set(files.map((f) => f.name));
  for (let waited = 0; ; waited += 10) {
    const stale = (await readdir(dir)).filter((f) => f.startsWith("ckpt-") && !current.has(f));
    if (stale.length === 0) break;
    if (waited >= 30_000) throw new Error(`${stale.length} files of replaced checkpoints still in ${dir} after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Promise.all(files.map(async (f) => (await stat(join(dir, f.name))).size));
}

/** Checkpoint and restore rows for `n` elements of `bytes` each. */
async function rowsFor(label: string, n: number, bytes: number, chunk: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "charm4ts-bench-ckpt-"));
  try {
    let blobs = charm.array(Blob, n, { args: [bytes] });
    await charm.awaitCreation(blobs);
    // Writing warms up here: plain fs took 1.5 and 3.2 s for a process's first two GB (fsynced),
    // then ~1.1 s each; checkpoints alike (2.7, 2.2, then 1.0-1.4 s). Measuring the saves first
    // and the floors after gave the saves the cold start. So one of each first, unmeasured, then
    // they alternate: both medians are taken in the same conditions.
    await charm.checkpoint(dir, { blobs });
    let sizes = await fileSizes(dir);
    await plainWrite(dir, sizes, chunk);
    const saves: number[] = [], writes: number[] = [];
    for (let round = 0; round < 3; round++) {
      saves.push(await ms(() => charm.checkpoint(dir, { blobs })));
      sizes = await fileSizes(dir);
      writes.push(await ms(() => plainWrite(dir, sizes, chunk)));
    }
    const save = medianOf(saves), writeFloor = medianOf(writes);
    const load = await median(3, async () => {
      await charm.destroy(blobs);
      const t = await ms(async () => { blobs = (await charm.restore<{ blobs: typeof blobs }>(dir)).blobs; });
      return t;
    });
    const readFloor = await median(3, () => ms(() => plainRead(dir, sizes.length)));
    // What the runtime pays to make the same elements anew (constructors run), for a restore that is mostly making elements.
    const create = await median(3, async () => {
      await charm.destroy(blobs);
      return ms(async () => { blobs = charm.array(Blob, n, { args: [bytes] }); await charm.awaitCreation(blobs); });
    });
    // For small elements, what the same objects cost to allocate, with no runtime and nothing to
    // decode: one PE's half, as each PE makes its own at once. (Large ones cost their bytes.)
    const allocate = bytes <= 4096 ? await median(3, () => allocateLikeRestore(n / 2, bytes)) : undefined;
    const total = `${(sizes.reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(0)} MiB`;
    await charm.destroy(blobs);
    return [
      { name: `checkpoint ${label} (${total}), 2 PEs`, value: save, unit: "ms", floor: { name: "the same bytes written with fs, 2 files at once", value: writeFloor, unit: "ms" }, target: "≤ ×1.5" },
      { name: `restore ${label} (${total}), 2 PEs`, value: load, unit: "ms", floor: { name: "the same files read with fs, at once", value: readFloor, unit: "ms" }, target: "≤ ×1.5" },
      { name: `restore ${label}, beside making them anew`, value: load, unit: "ms", floor: { name: "charm.array of the same elements, constructors run", value: create, unit: "ms" }, target: "report" },
      ...(allocate === undefined ? [] : [{ name: `restore ${label}, beside allocating their objects`, value: load, unit: "ms", floor: { name: "a plain loop making one PE's half of them (record, chare, fields, index, key)", value: allocate, unit: "ms" }, target: "report" }]),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Allocates in a plain loop what restoring `n` Blob elements of `bytes` each makes on a PE (a
 * record, the chare, its typed array and label, the index, the key and a table entry), kept
 * alive until the end as restored elements are; in ms.
 */
function allocateLikeRestore(n: number, bytes: number): number {
  const table = new Map<string, object>();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const key = String(i);
    const chare = { data: new Float64Array(bytes / 8).fill(i), step: 0, label: `blob ${i}` };
    table.set(key, { index: [i], key, chare, redNo: 0, busy: 0, moves: 1 });
  }
  const ms = performance.now() - t0;
  if (table.size !== n) throw new Error("the allocation floor lost elements");
  return ms;
}

/**
 * In-memory checkpoint of `n` × `bytes`: the first (into fresh memory; floor: the same bytes
 * copied once into fresh memory and handed to another thread) and later ones (each PE writes into
 * the memory of its part from two checkpoints before; floor: the same bytes copied into touched
 * memory), and charm.recover() after PE 1 is restarted in place (floor: charm.restart()).
 */
async function inMemoryRows(label: string, n: number, bytes: number): Promise<Row[]> {
  const rows: Row[] = [];
  const blobs = charm.array(Blob, n, { args: [bytes] });
  await charm.awaitCreation(blobs);
  const first = await ms(() => charm.checkpoint({ inMemory: true }, { blobs }));
  await charm.checkpoint({ inMemory: true }, { blobs }); // the second part's memory is fresh too
  const later = await median(3, () => ms(() => charm.checkpoint({ inMemory: true }, { blobs })));
  const copyFloor = await median(3, () => ms(() => copyToThread(n, bytes)));
  const warmFloor = copyIntoTouched(n, bytes);
  rows.push({ name: `first in-memory checkpoint ${label}, 2 PEs (each part also on the other PE)`, value: first, unit: "ms", floor: { name: "the same bytes copied into fresh memory and posted to another thread", value: copyFloor, unit: "ms" }, target: "—" });
  rows.push({ name: `later in-memory checkpoints ${label}, 2 PEs (memory reused)`, value: later, unit: "ms", floor: { name: "the same bytes copied into touched memory", value: warmFloor, unit: "ms" }, target: "≤ 500 ms" });
  const recover = await median(3, async () => {
    await charm.restartPe(1);
    return ms(() => charm.recover());
  });
  const restartFloor = await median(3, () => ms(() => charm.restart()));
  rows.push({ name: `charm.recover() of ${label} after a lost PE, 2 PEs`, value: recover, unit: "ms", floor: { name: "charm.restart() alone", value: restartFloor, unit: "ms" }, target: "≤ 3 s" });
  return rows;
}

/** Copies `n` × `bytes` into memory touched before (half of them, as one PE of two does), in ms: median of 3. */
function copyIntoTouched(n: number, bytes: number): number {
  const block = Buffer.alloc(bytes, 3);
  const into = Buffer.alloc((n / 2) * bytes, 1);
  const times = [0, 1, 2].map(() => {
    const t0 = performance.now();
    for (let i = 0; i < n / 2; i++) into.set(block, i * bytes);
    return performance.now() - t0;
  });
  return times.sort((a, b) => a - b)[1]!;
}

/** Copies `n` × `bytes` into one buffer and posts it to a worker thread (what keeping a part on a buddy costs at least). */
async function copyToThread(n: number, bytes: number): Promise<void> {
  const block = Buffer.alloc(bytes, 3);
  const whole = Buffer.concat(Array.from({ length: n / 2 }, () => block));
  const { Worker } = await import("node:worker_threads");
  const w = new Worker("require('node:worker_threads').parentPort.once('message', () => process.exit(0))", { eval: true });
  const exited = new Promise((r) => w.once("exit", r));
  w.postMessage(whole);
  await exited;
}

/** Runs the checkpoint benchmarks on 2 local PEs (CHECKPOINT_SCALE=0.1 scales the element counts down). */
export async function checkpointBenchmarks(): Promise<Row[]> {
  const scale = Number(process.env.CHECKPOINT_SCALE ?? 1);
  const rows: Row[] = [];
  await charm.start({ numPes: 2, modules: [new URL("../bench/chares.ts", import.meta.url).href] });
  try {
    const big = Math.round(1000 * scale), small = Math.round(100_000 * scale);
    if (want("1 mib")) rows.push(...(await rowsFor(`${big.toLocaleString("en")} × 1 MiB`, big, 1 << 20, 1 << 20)));
    if (want("small")) rows.push(...(await rowsFor(`${small.toLocaleString("en")} small elements`, small, 64, 1 << 16)));
    if (want("memory")) rows.push(...(await inMemoryRows(`${big.toLocaleString("en")} × 1 MiB`, big, 1 << 20)));
  } finally {
    await charm.shutdown();
  }
  return rows;
}
