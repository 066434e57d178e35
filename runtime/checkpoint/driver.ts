/**
 * `charm.checkpoint(dir, named)` and `charm.restore(dir)`, run on the driver.
 *
 * Checkpoint: at quiescence (no message in flight, no entry method running), every PE writes its
 * elements to its own file, in parallel; the driver then writes the manifest, last and
 * atomically, and removes the files of earlier checkpoints in the same directory.
 *
 * Restore: in steps over every PE — load (each reads and checks its share of the files; an
 * error here leaves the runtime untouched), install (new ids; each element goes to the PE where
 * its collection places it now), hooks (`restored()` once every element has arrived). An error
 * after load drops everything installed, so a runtime is never half restored.
 *
 * Automatic recovery (auto.ts) restores in-memory parts the same way, but under the ids the
 * checkpoint holds (restoreFrom's `same`), in a runtime that continues the run they were taken in.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CharmError, PeLostError, RemoteError } from "../protocol/errors.ts";
import type { CollectionId, SectionId } from "../protocol/ids.ts";
import type { CollectionRef, Message, SectionDef } from "../protocol/messages.ts";
import { decode, encodeValue } from "../protocol/codec.ts";
import { rt } from "../core/current.ts";
import { Future } from "../core/future.ts";
import type { Runtime } from "../core/runtime.ts";
import { forgetCollection } from "../core/destroy.ts";
import { FORMAT_VERSION, packNamed, readManifest, unpackNamed, writeManifest, type Manifest, type SavedCollection } from "./format.ts";
import { eachCollectionOf, eachTagged, remapValue, type Remap } from "./remap.ts";
import type { SaveAnswer } from "./save.ts";
import type { InstallRequest, LoadAnswer, LoadRequest } from "./load.ts";
import { buddyOf } from "./memory.ts";
import { quietAndHeld } from "./moment.ts";
import { causeInterrupted } from "../core/cell-context.ts";
import { filesIn, removeFiles } from "./dir-files.ts";

/** What charm.checkpoint wrote. */
export interface CheckpointInfo {
  dir: string;
  pes: number;
  elements: number;
  bytes: number;
}

type Step = Extract<Message, { t: "ckpt" }>["step"];

// Steps that keep a PE's thread for as long as its part takes (seconds for a large state) and
// run no code of the program's: not the barrier's (they wait for others) nor `restored()` hooks.
const BUSY_STEPS = new Set<Step>(["save", "load", "install", "keep", "fetch"]);

/** Runs one step on PE `pe`; its answer. */
function askPe<T>(runtime: Runtime, pe: number, step: Step, v: unknown, what: string): Promise<T> {
  const why = runtime.failures.dead.get(pe);
  if (why !== undefined) return Promise.reject(new CharmError(`PE ${pe} ${why}; ${what} needs every PE`));
  const f = new Future<T>();
  const state = runtime.futures.get(f.id)!;
  state.label = `${what} (PE ${pe})`;
  state.on = pe; // its death rejects the step instead of leaving it waiting
  runtime.send(pe, { t: "ckpt", step, v, fid: f.id });
  if (!BUSY_STEPS.has(step)) return Promise.resolve(f);
  // Until it answers, the PE is busy with it: an interrupted cell's check doesn't take it for stuck.
  runtime.stepsOn.set(pe, (runtime.stepsOn.get(pe) ?? 0) + 1);
  const done = () => {
    const left = runtime.stepsOn.get(pe)! - 1;
    if (left > 0) runtime.stepsOn.set(pe, left);
    else runtime.stepsOn.delete(pe);
  };
  return Promise.resolve(f).finally(done);
}

/** Runs one step on every PE; every PE's answer, or (after all have answered) the first error. */
export async function everyPe<T>(runtime: Runtime, step: Step, arg: (pe: number) => unknown, what: string): Promise<T[]> {
  const settled = await Promise.allSettled(Array.from({ length: runtime.numPes }, (_, pe) => askPe<T>(runtime, pe, step, arg(pe), what)));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw asCharmError(failed.reason, what);
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

function asCharmError(err: unknown, what: string): Error {
  if (err instanceof RemoteError) return new CharmError(`${what}: ${err.remoteMessage}`);
  if (err instanceof CharmError) return new CharmError(`${what}: ${err.message.replace(/^charm\.\w+\([^)]*\): /, "")}`);
  return err as Error;
}

function driverRuntime(what: string): Runtime {
  const runtime = rt();
  if (!runtime.isDriver) throw new CharmError(`${what} runs on the driver (a cell or a script's main), not in a chare`);
  return runtime;
}

/** Where a checkpoint goes: a directory, or memory (each PE's part kept there and on its buddy PE). */
export type CheckpointTarget = string | { inMemory: true };

/** The last in-memory checkpoint: its manifest (each part's name is the checkpoint's stem), and the arrays it caught at their AtSync barrier. */
export interface InMemoryCheckpoint {
  manifest: Manifest;
  atSync: number[];
}

let lastInMemory: InMemoryCheckpoint | undefined;

/** The runtime stopped: its PEs' in-memory parts are gone with them. */
export function forgetInMemory(): void {
  lastInMemory = undefined;
  PeLostError.remedy = DEFAULT_REMEDY;
}
const DEFAULT_REMEDY = PeLostError.remedy;

/** Forgets the last in-memory checkpoint (its parts are gone), keeping what PeLostError says. */
export function dropInMemory(): void {
  lastInMemory = undefined;
}

/** The last in-memory checkpoint, if any. */
export function lastInMemoryCheckpoint(): InMemoryCheckpoint | undefined {
  return lastInMemory;
}

/** Saves every element of every collection, and the named values, to `target`; see the module comment. */
export async function checkpoint(target: CheckpointTarget, named: Record<string, unknown> = {}): Promise<CheckpointInfo> {
  const inMemory = typeof target === "object" && target !== null && target.inMemory === true;
  if (!inMemory && (typeof target !== "string" || target === "")) throw new CharmError("charm.checkpoint(dir, named?): dir must be a directory path (or { inMemory: true })");
  if (named === null || typeof named !== "object" || Array.isArray(named)) throw new CharmError("charm.checkpoint(dir, named?): named must be an object such as { sim, cells }");
  const what = inMemory ? "charm.checkpoint({ inMemory: true })" : `charm.checkpoint(${JSON.stringify(target)})`;
  const runtime = driverRuntime(what);
  const encodedNamed = encodeValue(named, "charm.checkpoint's named values").v;
  if (inMemory) return saveInMemory(runtime, encodedNamed, [], what);
  const abs = resolve(target as string);
  makeDirectory(abs, what);
  const stopped = interruptedCheck(runtime);
  return inTurn(abs, () => saveToDisk(runtime, abs, encodedNamed, what, stopped));
}

/**
 * Whether the notebook cell this call was made in has been interrupted since (never, outside a
 * notebook): a checkpoint or restore stopped that way is dropped between two steps, rather than
 * finishing in the background where the cell no longer waits for it.
 */
function interruptedCheck(runtime: Runtime): () => boolean {
  const cause = runtime.scheduler.currentCause();
  return () => causeInterrupted(cause);
}

/** What a turn at a directory resolves with, and what it still does there in the background (the next turn waits for that). */
interface Turn<T> {
  value: T;
  background?: Promise<unknown>;
}

/** Checkpoints and restores of a directory under way, by directory: the last one asked for. */
const busyDirs = new Map<string, Promise<unknown>>();

/**
 * Runs `work` on directory `abs` once the checkpoints and restores asked for there before it are
 * done (at once if none is): a checkpoint removes the files of the others there once its manifest
 * is in place, and one still being written or read beside it would lose them.
 */
function inTurn<T>(abs: string, work: () => Promise<Turn<T>>): Promise<T> {
  const before = busyDirs.get(abs);
  const mine = before ? before.then(work) : work();
  const whole: Promise<unknown> = mine.then((turn) => turn.background).catch(() => undefined);
  busyDirs.set(abs, whole);
  void whole.then(() => { if (busyDirs.get(abs) === whole) busyDirs.delete(abs); });
  return mine.then((turn) => turn.value);
}

/** A checkpoint into directory `abs` (made already), at quiescence. */
async function saveToDisk(runtime: Runtime, abs: string, encodedNamed: unknown, what: string, stopped: () => boolean): Promise<Turn<CheckpointInfo>> {
  const release = await quietAndHeld(runtime); // the consistent point: nothing in flight, nothing running (moment.ts)
  const stem = newStem();
  const answers = await everyPe<SaveAnswer>(runtime, "save", () => ({ dir: abs, stem }), what).catch(async (err) => {
    release();
    await removeFiles(runtime, abs, (f) => f.startsWith(`${stem}.`));
    throw err;
  });
  // Until its manifest is in place the save is work in flight: a waitQD meanwhile waits for it.
  const writing = runtime.scheduler.traffic.pending();
  release(); // every PE's file is written: the chares may change now
  let manifest: Manifest;
  try {
    if (stopped()) {
      await removeFiles(runtime, abs, (f) => f.startsWith(`${stem}.`));
      throw new CharmError(`${what} was interrupted: nothing was written (a checkpoint there before it stays whole)`);
    }
    manifest = manifestOf(runtime, answers, encodedNamed);
    await writeManifest(abs, manifest);
  } finally {
    writing();
  }
  // Only now is the new checkpoint whole: the files of earlier ones in this directory can go, in
  // the background (unlinking 1 GB took ~0.3 s here). Listed now, so a checkpoint started next in
  // this directory keeps its own files; any a program's end cuts short, the next checkpoint removes.
  const earlier = await filesIn(abs, (f) => f.startsWith("ckpt-") && !f.startsWith(`${stem}.`));
  const background = Promise.all(earlier.map((f) => rm(join(abs, f), { force: true }))).catch(() => undefined);
  return { value: infoOf(manifest, abs), background };
}

/**
 * Makes the checkpoint's directory (and its parents), or says in the call's words why it can't be
 * one. At once, not awaited: the call holds what the driver sends next (moment.ts) before it returns.
 */
function makeDirectory(dir: string, what: string): void {
  // /proc and /sys: Node's recursive mkdir can loop for good there rather than fail.
  if (/^\/(proc|sys)(\/|$)/.test(dir)) throw new CharmError(`${what}: ${dir} is in a kernel file system, where no checkpoint can be written: choose a directory of your own`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    const why = code === "EEXIST" || code === "ENOTDIR" ? "it (or a folder on its path) is a file, not a directory" : code === "EACCES" || code === "EPERM" || code === "EROFS" ? `you may not write there (${code})` : message;
    throw new CharmError(`${what}: can't make the directory ${dir}: ${why}. Give a directory you may write to, or one to be made.`);
  }
}

/**
 * An in-memory checkpoint, at quiescence: each PE keeps its part and its buddy's. `atSync`: the
 * arrays whose elements all wait at their AtSync barrier now (their plan held by the driver).
 */
export async function saveInMemory(runtime: Runtime, encodedNamed: unknown, atSync: number[], what: string): Promise<CheckpointInfo> {
  const release = await quietAndHeld(runtime); // the consistent point: nothing in flight, nothing running (moment.ts)
  const stem = newStem();
  const answers = await everyPe<SaveAnswer>(runtime, "save", (pe) => ({ dir: "", stem, inMemory: true, atSync, buddy: buddyOf(pe, runtime.numPes, runtime.peProcess) }), what).finally(release);
  const manifest = manifestOf(runtime, answers, encodedNamed);
  lastInMemory = { manifest: { ...manifest, files: manifest.files.map((f) => ({ ...f, name: stem })) }, atSync };
  if (PeLostError.remedy === DEFAULT_REMEDY) PeLostError.remedy = "charm.recover() goes back to the last in-memory checkpoint (charm.restart() starts the runtime again).";
  return infoOf(manifest, "(in memory)");
}

function newStem(): string {
  return `ckpt-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

function infoOf(manifest: Manifest, dir: string): CheckpointInfo {
  return { dir, pes: manifest.numPes, elements: manifest.files.reduce((n, f) => n + f.elements, 0), bytes: manifest.files.reduce((n, f) => n + f.bytes, 0) };
}

/** The manifest of a checkpoint whose PEs answered `answers`. */
function manifestOf(runtime: Runtime, answers: SaveAnswer[], encodedNamed: unknown): Manifest {
  const collections = new Map<number, SavedCollection>();
  for (const a of answers) for (const c of a.collections) if (!collections.has(c.ref.cid)) collections.set(c.ref.cid, c);
  const sections = runtime.sections.all()
    .filter((s) => s.refs.every((r) => collections.has(r.cid)))
    .map((s): SectionDef => ({ ...s.ref, refs: s.refs, members: s.members }));
  return {
    format: "charm4ts-checkpoint", version: FORMAT_VERSION, created: new Date().toISOString(), numPes: runtime.numPes,
    collections: [...collections.values()], sections, named: packNamed(encodedNamed), files: answers.map((a) => a.file),
  };
}

/**
 * After a PE was lost: fetches every PE's part of the last in-memory checkpoint (a lost PE's
 * from its buddy), restarts the runtime (`restartRuntime`: a replacement for the lost PE), and
 * restores the parts there, every element rolled back to that checkpoint; then takes a fresh
 * in-memory checkpoint of it. Resolves with the named values.
 */
export async function recover<T extends Record<string, any> = Record<string, any>>(restartRuntime: () => Promise<void>): Promise<T> {
  const what = "charm.recover()";
  const last = lastInMemory;
  if (!last) throw new CharmError(`${what}: there is no in-memory checkpoint to go back to; take one with charm.checkpoint({ inMemory: true }, named)`);
  const parts = await fetchParts(driverRuntime(what), last.manifest, what);
  await restartRuntime();
  driverRuntime(what).restartedBy = what;
  const { named } = await restoreFrom<T>(driverRuntime(what), last.manifest, { dir: "", data: parts }, what);
  await checkpoint({ inMemory: true }, named);
  return named;
}

/** Every PE's part of an in-memory checkpoint, in the manifest's file order: from the PE, or (lost) from its buddy. */
export function fetchParts(runtime: Runtime, manifest: Manifest, what: string): Promise<Uint8Array[]> {
  return Promise.all(manifest.files.map(async (f) => {
    const buddy = f.buddy ?? buddyOf(f.pe, manifest.numPes);
    const holders = [f.pe, buddy].filter((pe) => pe < runtime.numPes && !runtime.failures.dead.has(pe));
    // A PE restarted in place (charm.restartPe) is alive but holds nothing: then its buddy's copy.
    for (const pe of holders) {
      const part = await askPe<Uint8Array>(runtime, pe, "fetch", { pe: f.pe, stem: f.name }, what).catch(() => undefined);
      if (part) return part;
    }
    throw new CharmError(`${what}: PE ${f.pe} and PE ${buddy}, which kept its copy, are both lost; the in-memory checkpoint can't be recovered (a checkpoint on disk can: charm.restore(dir))`);
  }));
}

/** Recreates every saved collection on this runtime's PEs; resolves with the named values, their proxies working. */
export async function restore<T extends Record<string, any> = Record<string, any>>(dir: string): Promise<T> {
  if (typeof dir !== "string" || dir === "") throw new CharmError("charm.restore(dir): dir must be a checkpoint directory's path");
  const what = `charm.restore(${JSON.stringify(dir)})`;
  const runtime = driverRuntime(what);
  const abs = resolve(dir);
  const stopped = interruptedCheck(runtime);
  return inTurn(abs, async () => {
    const manifest = await readManifest(abs).catch((err) => { throw asCharmError(err, what); });
    const value = (await restoreFrom<T>(runtime, manifest, { dir: abs }, what, undefined, stopped)).named;
    warnOfDroppedGroups(manifest, runtime.numPes, what);
    return { value };
  });
}

/** On fewer PEs than the checkpoint's, a group's elements of the PEs past the new count aren't restored: said, not silent. */
function warnOfDroppedGroups(manifest: Manifest, numPes: number, what: string): void {
  const groups = manifest.collections.filter((c) => c.ref.kind === "group").map((c) => c.ref.cls);
  if (manifest.numPes <= numPes || groups.length === 0) return;
  const gone = manifest.numPes - numPes === 1 ? `PE ${numPes}'s element` : `the elements of PEs ${numPes}–${manifest.numPes - 1}`;
  process.stderr.write(`charm4ts: warning: ${what}: the checkpoint was made on ${manifest.numPes} PEs and this runtime has ${numPes}: ` +
    `of group${groups.length > 1 ? "s" : ""} ${[...new Set(groups)].join(", ")}, ${gone} (state they held) ${manifest.numPes - numPes === 1 ? "was" : "were"} not restored; PE p holds what PE p held\n`);
}

/**
 * Restores a checkpoint from its files in `dir`, or from its parts' bytes (`data`, in the
 * manifest's file order). New ids, unless `same` is given (automatic recovery, in the run the
 * checkpoint was taken in): then collections and sections keep theirs, and so do the futures in
 * `same` (pending on this driver still); it resolves with the named values and the ids of the
 * futures the checkpoint mentions. Once `stopped()` (its cell was interrupted), it drops what it
 * loaded or installed at the next step and rejects.
 */
export async function restoreFrom<T>(runtime: Runtime, manifest: Manifest, from: { dir: string; data?: Uint8Array[] }, what: string, same?: Set<number>, stopped = () => false): Promise<{ named: T; mentioned: Set<number> }> {
  const interrupted = () => new CharmError(`${what} was interrupted: nothing was restored`);
  const named = unpackNamed(manifest.named, from.dir || "memory");
  const n = runtime.numPes;
  const load = (pe: number): LoadRequest => {
    const mine = manifest.files.flatMap((f, k) => (f.pe % n === pe ? [k] : []));
    return { dir: from.dir, files: mine.map((k) => manifest.files[k]!), data: from.data && mine.map((k) => from.data![k]!), collections: manifest.collections, numPesBefore: manifest.numPes };
  };
  const loads = await everyPe<LoadAnswer>(runtime, "load", load, what)
    .catch(async (err) => {
      await everyPe(runtime, "abort", () => [], what).catch(() => undefined);
      throw err;
    });
  if (stopped()) {
    await everyPe(runtime, "abort", () => [], what).catch(() => undefined);
    throw interrupted();
  }
  const mentioned = new Set(loads.flatMap((l) => l.fids));
  const held = new Set<number>(manifest.collections.map((c) => c.ref.cid));
  const others = new Map<number, unknown>(loads.flatMap((l) => l.others));
  eachTagged(named, (t) => {
    if (t.$charm === "future") mentioned.add(t.fid as number);
    else if (t.$charm !== "obj") eachCollectionOf(t, (cid, kind) => { if (!held.has(cid) && others.get(cid) === undefined) others.set(cid, kind); });
  });
  const m = same ? sameIds(runtime, manifest, mentioned, same) : newIds(runtime, manifest, mentioned);
  // Within the run (recovery) those collections keep their ids; in a new one they get new ids: a
  // sparse array nothing was inserted into is made again by its first insert, and any other is
  // gone (destroyed before the checkpoint), so calls to it are refused as to a destroyed one.
  const gone: number[] = [];
  if (!same) {
    m.others = new Map();
    for (const [cid, kind] of others) {
      const now = runtime.newCollectionId();
      m.others.set(cid, now);
      if (kind !== "sparse") gone.push(now);
    }
  }
  const newCids = [...m.cids.values()].map((r) => r.cid);
  try {
    // Sections first: every endpoint knows them before the elements that name them arrive (sent in order).
    for (const def of manifest.sections) {
      const now: SectionDef = { ...def, sid: m.sids.get(def.sid)! as SectionId, refs: def.refs.map((r) => m.cids.get(r.cid)!) };
      runtime.sections.define(now);
      for (let pe = 0; pe < n; pe++) runtime.send(pe, { t: "section", def: now });
    }
    const totals = manifest.collections.flatMap((c) => (c.total === undefined ? [] : [[m.cids.get(c.ref.cid)!.cid, c.total] as [number, number]]));
    const install: InstallRequest = { cids: [...m.cids], sids: [...m.sids], fids: [...m.fids], totals, others: [...(m.others ?? [])], gone };
    for (const cid of gone) forgetCollection(runtime, cid as CollectionId);
    const sent = await everyPe<number[]>(runtime, "install", () => install, what);
    if (stopped()) throw interrupted(); // what was installed is dropped below
    await everyPe<number>(runtime, "hooks", (pe) => sent.reduce((sum, s) => sum + (s[pe] ?? 0), 0), what);
    for (const [cid, total] of totals) runtime.census.totals.set(cid as CollectionId, total);
  } catch (err) {
    await everyPe(runtime, "abort", () => newCids, what).catch(() => undefined);
    for (const cid of newCids) forgetCollection(runtime, cid);
    throw err;
  }
  remapValue(named, m);
  return { named: decode(named) as T, mentioned };
}

/** New ids for everything the checkpoint names: collections (singletons placed on a PE that exists), sections, futures. */
function newIds(runtime: Runtime, manifest: Manifest, fids: Set<number>): Remap {
  const cids = new Map<number, CollectionRef>();
  for (const c of manifest.collections) {
    const ref: CollectionRef = { ...c.ref, cid: runtime.newCollectionId() };
    if (ref.kind === "single") ref.pe = ref.pe! % runtime.numPes;
    cids.set(c.ref.cid, ref);
  }
  const sids = new Map<number, number>(manifest.sections.map((s) => [s.sid, runtime.newCollectionId()]));
  // A saved future's waiters were in the old run: it becomes a new future of this driver (a named one can be awaited).
  const fidMap = new Map<number, number>([...fids].map((fid) => [fid, new Future().id as number]));
  return { cids, sids, fids: fidMap };
}

/**
 * The same ids as in the checkpoint (recovery within its run): collections and sections as they
 * were, the futures still pending here (`pending`) too. Any other future it mentions completed
 * already, or was homed on a PE that is gone: a new future of this driver that nobody awaits
 * takes its place, so what replaying the steps since the checkpoint sends it lands quietly.
 */
function sameIds(runtime: Runtime, manifest: Manifest, fids: Set<number>, pending: Set<number>): Remap {
  const cids = new Map<number, CollectionRef>(manifest.collections.map((c) => [c.ref.cid, c.ref.kind === "single" ? { ...c.ref, pe: c.ref.pe! % runtime.numPes } : c.ref]));
  const sids = new Map<number, number>(manifest.sections.map((s) => [s.sid, s.sid]));
  const fidMap = new Map<number, number>([...fids].map((fid) => [fid, pending.has(fid) ? fid : new Future().id as number]));
  return { cids, sids, fids: fidMap };
}
