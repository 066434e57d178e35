/**
 * A PE's part of charm.restore, in the driver's steps: load (read and check its share of the
 * files; nothing is installed yet, so any error leaves the runtime as it was), install (ids
 * rewritten; each element goes to the PE where it lives now, here or sent there), hooks (once
 * every element has arrived, `restored()` runs on each), abort (what was installed is dropped).
 */
import { CharmError, errorToData } from "../protocol/errors.ts";
import { indexKey, type CollectionId, type Endpoint, type Index } from "../protocol/ids.ts";
import type { CollectionRef } from "../protocol/messages.ts";
import { canRevive, decode } from "../protocol/codec.ts";
import type { Runtime } from "../core/runtime.ts";
import { allocateChare, newRecord, type ElementRecord } from "../core/chare.ts";
import { chareClass, findChareClass, type ChareClass } from "../core/registry.ts";
import type { ElementTable } from "../core/element-table.ts";
import { homePe } from "../core/placement.ts";
import { unpackElement, type PackedElement } from "../core/migration.ts";
import { forgetCollection } from "../core/destroy.ts";
import { checkShape } from "./fields.ts";
import { adoptMemory } from "./memory.ts";
import { readElements, readElementsInMemory, type FileEntry, type LoadedElement, type SavedCollection } from "./format.ts";
import type { PlainAt } from "./plain-read.ts";
import { eachCollectionOf, eachTagged, remapEndName, remapValue, type Remap } from "./remap.ts";

/** The driver's load step: this PE's files (or their bytes: an in-memory checkpoint), and what the manifest says about the collections. */
export interface LoadRequest {
  dir: string;
  files: FileEntry[];
  data?: Uint8Array[];
  collections: SavedCollection[];
  numPesBefore: number;
}

/** The driver's install step: old ids → new, and sparse arrays' sizes (new cid → total). */
export interface InstallRequest {
  cids: Array<[number, CollectionRef]>;
  sids: Array<[number, number]>;
  fids: Array<[number, number]>;
  totals: Array<[number, number]>;
  /** Collections mentioned but not held (Remap.others), old id → new. */
  others: Array<[number, number]>;
  /** Which of those new ids name collections that are gone (destroyed before the checkpoint): calls to them are refused. */
  gone: number[];
}

/** What a PE's load step answers: the futures its files mention, and the collections they mention but the checkpoint doesn't hold (id, kind). */
export interface LoadAnswer {
  fids: number[];
  others: Array<[number, unknown]>;
  elements: number;
}

/** One element on its way to the PE where it lives now (ids already rewritten). */
export type Placed = [ref: CollectionRef, idx: Index, state: unknown, plain?: 1];

let loaded: { elements: LoadedElement[]; before: number } | undefined;
let installed: ElementRecord[] = [];
let placed = 0;
let placedWanted: { n: number; go(): void } | undefined;

/** Reads and checks this PE's files; answers with the ids of the futures they mention. */
export async function loadHere(rt: Runtime, req: LoadRequest): Promise<LoadAnswer> {
  loaded = undefined;
  const known = new Set<number>();
  for (const c of req.collections) {
    const cls = findChareClass(c.ref.cls);
    if (!cls) throw new CharmError(`the checkpoint holds ${c.ref.cls} chares, but class ${c.ref.cls} is not defined on PE ${rt.self}: define it (in a notebook, run the cell that declares it; in a script, export it) before charm.restore`);
    checkShape(cls, c.fields, req.dir);
    known.add(c.ref.cid);
  }
  const fids = new Set<number>();
  const others = new Map<number, unknown>();
  const elements: LoadedElement[] = [];
  for (const [k, file] of req.files.entries()) {
    for (const el of await (req.data ? readElementsInMemory(req.data[k]!, file) : readElements(req.dir, file))) {
      if (!known.has(el.c)) throw new CharmError(`checkpoint file ${file.name} holds an element of collection ${el.c}, which the manifest doesn't list: the file belongs to another checkpoint`);
      if (!("frame" in el)) eachTagged(el.s, (t) => { // a plain element holds no references
        if (t.$charm === "future") fids.add(t.fid as number);
        else if (t.$charm !== "obj") eachCollectionOf(t, (cid, kind) => { if (!known.has(cid) && others.get(cid) === undefined) others.set(cid, kind); });
        if (!canRevive(t.$charm, t.cls as string | undefined)) {
          throw new CharmError(t.$charm === "obj"
            ? `the checkpoint holds an instance of ${String(t.cls)}, which isn't registered on PE ${rt.self}: call charm.serializable(${String(t.cls)}) before charm.restore`
            : `the checkpoint holds a ${t.$charm} reference, which this runtime can't rebuild`);
        }
      });
      elements.push(el);
    }
  }
  loaded = { elements, before: req.numPesBefore };
  if (req.data) adoptMemory(req.data);
  return { fids: [...fids], others: [...others], elements: elements.length };
}

/** Creates the restored collections here and sends or installs every loaded element; answers with how many went to each PE. */
export function installHere(rt: Runtime, req: InstallRequest): number[] {
  if (!loaded) throw new CharmError(`PE ${rt.self} has nothing loaded to install`);
  const m: Remap = { cids: new Map(req.cids), sids: new Map(req.sids), fids: new Map(req.fids), others: new Map(req.others) };
  for (const [, ref] of req.cids) ensureCollection(rt, ref);
  for (const cid of req.gone) rt.runner.destroy(cid as CollectionId);
  // Restored under their old ids (automatic recovery): ids this PE mints from now on go past them.
  for (const [, ref] of req.cids) rt.reserveId(ref.cid);
  for (const [, sid] of req.sids) rt.reserveId(sid);
  for (const [cid, total] of req.totals) rt.census.totals.set(cid as CollectionId, total);
  const outgoing = new Map<Endpoint, Placed[]>();
  const { elements, before } = loaded;
  loaded = undefined;
  try {
    for (const loadedEl of elements) {
      if ("frame" in loadedEl && installPlain(rt, m, loadedEl)) continue;
      const el = "frame" in loadedEl ? loadedEl.frame.decode(loadedEl.at) : loadedEl;
      const ref = m.cids.get(el.c)!;
      const state = el.s as PackedElement;
      if (!el.p) remapValue(state, m); // plain state holds no references
      if (state.sec) state.sec = state.sec.map(([sid, next]) => [m.sids.get(sid) ?? sid, next]);
      for (const box of state.boxes) box[0] = remapEndName(box[0], m);
      if (!el.p) state.seen = []; // broadcast ids of the old run mean nothing in this one (a plain element saved none)
      if (ref.kind !== "group") { place(rt, outgoing, homePe(ref, el.i, rt.numPes, rt.self), ref, el.i, state, el.p); continue; }
      const targets = groupTargets(rt.numPes, before, el.i[0]!);
      targets.forEach(([pe, idx], k) => place(rt, outgoing, pe, ref, idx, k === targets.length - 1 ? state : structuredClone(state), el.p));
    }
  } finally {
    forgetLast();
  }
  const sent = new Array<number>(rt.numPes).fill(0);
  for (const [pe, list] of outgoing) {
    rt.send(pe, { t: "ckpt", step: "place", v: list });
    sent[pe] = list.length;
  }
  return sent;
}

/** Installs an element here, or lists it for PE `pe`. A function, not a closure per element: the build's keepNames would name each one (a defineProperty per element). */
function place(rt: Runtime, outgoing: Map<Endpoint, Placed[]>, pe: Endpoint, ref: CollectionRef, idx: Index, s: PackedElement, plain: 1 | undefined): void {
  if (pe === rt.self) { install(rt, ref, idx, s, plain); return; }
  let list = outgoing.get(pe);
  if (!list) outgoing.set(pe, (list = []));
  list.push(plain ? [ref, idx, s, 1] : [ref, idx, s]);
}

/** Elements another PE sent here during install. */
export function placeHere(rt: Runtime, list: Placed[]): void {
  try {
    for (const [ref, idx, s, plain] of list) install(rt, ref, idx, s as PackedElement, plain);
  } finally {
    forgetLast();
  }
  placed += list.length;
  if (placedWanted && placed >= placedWanted.n) placedWanted.go();
}

/** Once `expect` elements have arrived from other PEs, runs `restored()` on every element installed here. */
export async function hooksHere(rt: Runtime, expect: number): Promise<number> {
  if (placed < expect) await new Promise<void>((go) => { placedWanted = { n: expect, go }; });
  placedWanted = undefined;
  placed = 0;
  const records = installed;
  installed = [];
  for (const record of records) {
    const hook = (record.chare as { restored?: unknown }).restored;
    if (typeof hook !== "function") continue;
    try {
      hook.call(record.chare);
    } catch (err) {
      rt.reportUnhandled(errorToData(err, rt.self, record.label, "restored"));
    }
  }
  return records.length;
}

/** Drops whatever this restore installed or loaded here (another PE failed). */
export function abortHere(rt: Runtime, cids: number[]): void {
  loaded = undefined;
  installed = [];
  placed = 0;
  placedWanted = undefined;
  for (const cid of cids) forgetCollection(rt, cid as CollectionId);
}

/** A group's element from a run on `before` PEs: new PE p takes old element p mod `before`. */
function groupTargets(numPes: number, before: number, old: number): Array<[Endpoint, Index]> {
  const out: Array<[Endpoint, Index]> = [];
  for (let pe = old; pe < numPes; pe += before) out.push([pe, [pe]]);
  return out;
}

function ensureCollection(rt: Runtime, ref: CollectionRef): void {
  const coll = rt.runner.collection(ref.cid, ref);
  coll.ref = ref;
  coll.created = true;
}

/**
 * A plain element that lives here now (most of them, when the PE count is the same), read from
 * its frame straight into its new chare; false, with nothing done, for one that goes elsewhere.
 */
function installPlain(rt: Runtime, m: Remap, at: PlainAt): boolean {
  const ref = m.cids.get(at.frame.head(at.at))!;
  const idx = at.frame.index;
  if (ref.kind === "group" || homePe(ref, idx, rt.numPes, rt.self) !== rt.self) return false;
  const record = newElement(rt, ref, idx);
  at.frame.restInto(record, m.sids);
  rt.balancing.restored(record);
  installed.push(record);
  return true;
}

/** Rebuilds one element without its constructor (fields, reduction numbers, channel inboxes). */
function install(rt: Runtime, ref: CollectionRef, idx: Index, state: PackedElement, plain?: 1): void {
  const record = newElement(rt, ref, idx);
  // Plain state holds no references; no broadcast history: the element starts as one created here.
  unpackElement(rt, record, plain ? state : (decode(state) as PackedElement), true);
  rt.balancing.restored(record);
  installed.push(record);
}

// The collection of the element installed before, its class and its elements: a restore installs
// long runs of one collection, and looking them up again for each was a tenth of installing one.
// Forgotten at the end of each step, so a dropped collection's elements are never reached.
let lastRef: CollectionRef | undefined;
let lastClass: ChareClass | undefined;
let lastElements: ElementTable | undefined;

function forgetLast(): void {
  lastRef = lastClass = lastElements = undefined;
}

/** A record and a chare allocated without its constructor, in place in its collection: channels in its fields find their inboxes through it. */
function newElement(rt: Runtime, ref: CollectionRef, idx: Index): ElementRecord {
  if (ref !== lastRef) {
    ensureCollection(rt, ref);
    lastClass = chareClass(ref.cls, rt.self);
    lastElements = rt.runner.collection(ref.cid).elements;
    lastRef = ref;
  }
  const key = indexKey(idx);
  const record = newRecord(ref, idx, key, rt.self);
  allocateChare(lastClass!, record);
  lastElements!.set(key, record);
  return record;
}
