/**
 * Moving an element to another PE. Its own fields travel (encoded like arguments: proxies,
 * futures and channels as references, typed arrays copied once); the constructor does not run
 * again, and `migrated()` runs on arrival. Its reduction numbers (per section too), channel
 * inboxes and which broadcasts it has run travel with it. The PE it leaves forwards messages
 * that still arrive for it; every endpoint then learns the new location (a "moved" notice, or
 * the balancer's plan, which everyone receives).
 *
 * Broadcasts and moves race: a broadcast may reach the old PE after the element left and the
 * new PE before it arrived. So every broadcast has an id; a PE remembers the last few it ran
 * and forwards later ones to elements that recently left; an element remembers the ids it has
 * run, so a broadcast that reaches it twice runs once.
 */
import { CharmError, errorToData } from "../protocol/errors.ts";
import { collectionScope, DRIVER, indexKey, replyKey, sectionScope, type Index } from "../protocol/ids.ts";
import type { CollectionRef, Message } from "../protocol/messages.ts";
import { decode, encodeArgs, encodeValue } from "../protocol/codec.ts";
import type { Waiting } from "./when.ts";
import type { Runtime } from "./runtime.ts";
import type { LocalCollection } from "./entry-runner.ts";
import { allocateChare, Chare, newRecord, type ElementRecord } from "./chare.ts";
import { privateMembers, privateMembersRefusal } from "./private-members.ts";
import { chareClass } from "./registry.ts";
import { elementRef } from "./proxy.ts";
import type { Inbox } from "../channels/inbox.ts";

/** What moving elements uses of its runtime: sending, the hosted elements, and the subsystems an element's state touches. */
export type MigrationRuntime = Pick<Runtime, "balancing" | "channels" | "runner" | "noteLocation" | "numPes" | "reductions" | "reportUnhandled" | "self" | "send" | "sendToElement">;

type MigrateMsg = Extract<Message, { t: "migrate" }>;
type BcastMsg = Extract<Message, { t: "bcast" }>;

// How many broadcasts a PE remembers per collection, and for how many later broadcasts it
// forwards to an element that left: far more than can be in flight around one move.
const RECENT = 64;

/** What travels with an element (and what a checkpoint saves of it). */
export interface PackedElement {
  fields: Record<string, unknown>;
  redNo: number;
  /** Per section: the number of its next reduction over it (sections it contributed to). */
  sec?: Array<[sid: number, next: number]>;
  moves: number;
  load: number;
  seen: number[];
  /** It called AtSync while its move waited: it syncs on arrival. */
  sync?: 1;
  /** How many times it has called AtSync. */
  syncs?: number;
  boxes: Array<[from: string, expected: number, sendSeq: number, ready: unknown[], early: Array<[number, unknown]>]>;
}

/** Broadcast bookkeeping a PE keeps per collection for elements on the move. */
export interface MoveLog {
  /** Ids of the last broadcasts run here. */
  recent: number[];
  /** Elements that left recently, and until which broadcast count to forward to them. */
  gone: Array<{ idx: Index; until: number }>;
  /** Broadcasts run here so far. */
  count: number;
}

let packing: ElementRecord | undefined;

/** The element being packed for a move right now (a channel it owns may be encoded then only). */
export function elementBeingPacked(): ElementRecord | undefined {
  return packing;
}

function checkMovable(rt: MigrationRuntime, record: ElementRecord, toPe: number): void {
  const kind = record.ref.kind;
  if (kind !== "array" && kind !== "sparse") throw new CharmError(`${record.label}: only array elements migrate (this is a ${kind === "single" ? "singleton" : "group element"})`);
  if (!Number.isInteger(toPe) || toPe < 0 || toPe >= rt.numPes) throw new CharmError(`${record.label}.migrate(${toPe}): the PE must be an integer in 0…${rt.numPes - 1}`);
}

/**
 * Moves `record` to `toPe`, now or once its suspended entry methods finish. Throws (and the
 * element stays) when it can't move: not an array element, not migratable, or state that can't
 * be sent.
 */
export function emigrate(rt: MigrationRuntime, record: ElementRecord, toPe: number, planned: boolean): void {
  checkMovable(rt, record, toPe);
  if (record.pinned) throw new CharmError(`${record.label} is not migratable (setMigratable(false)); it stays on PE ${rt.self}`);
  if (toPe === rt.self) return;
  if (!planned && record.atSync) throw new CharmError(`${record.label}.migrate(${toPe}): it called AtSync and waits for the balancer; it can migrate once resumeFromSync runs`);
  if (record.busy > 0) {
    // An entry method is suspended at an await: its continuation must run here, on this object.
    record.leaving = toPe;
    return;
  }
  record.leaving = undefined;
  const coll = rt.runner.collection(record.ref.cid);
  const waiting = rt.runner.conditions.take(record);
  let enc: ReturnType<typeof packElement>;
  try {
    enc = packElement(rt, record, coll, waiting);
  } catch (err) {
    for (const w of waiting) rt.runner.conditions.admit(record, w.method, w.args, w.origin, w.run); // still waiting here
    throw err;
  }
  coll.elements.delete(record.key);
  rt.reductions.departed(record);
  if (!planned) rt.balancing.departed(record);
  const log = moveLog(coll);
  log.gone.push({ idx: record.index, until: log.count + RECENT });
  const moves = (record.moves ?? 0) + 1;
  rt.noteLocation(record.ref.cid, record.key, toPe, moves);
  rt.send(toPe, { t: "migrate", ref: record.ref, idx: record.index, s: enc.v, r: enc.r, planned: planned ? 1 : undefined }, enc.transfer);
  for (const w of waiting) resend(rt, record, toPe, w);
}

/** A call that was waiting for its `when` condition follows its element (after it, in order). */
function resend(rt: MigrationRuntime, record: ElementRecord, toPe: number, w: Waiting): void {
  const enc = encodeArgs(w.args);
  const o = w.origin;
  if (o.kind === "invoke") {
    rt.send(toPe, { t: "invoke", to: elementRef(record.ref, record.index), m: w.method, a: enc.a, r: enc.r, reply: o.reply }, enc.transfer);
    return;
  }
  // A broadcast's call: its reply is now the new PE's to give, as one more partial.
  if (o.reply) rt.reductions.replyMoved(o.sec !== undefined ? sectionScope(o.sec) : collectionScope(record.ref.cid), replyKey(o.reply.fid));
  rt.send(toPe, { t: "bcast", to: record.ref, m: w.method, a: enc.a, r: enc.r, reply: o.reply, b: o.b, only: record.index, sec: o.sec }, enc.transfer);
}

/**
 * Encodes an element's state for a move (or, `action` "be saved" and `copy` false, for a
 * checkpoint that serializes it at once); throws naming what can't be sent.
 */
export function packElement(rt: MigrationRuntime, record: ElementRecord, coll: LocalCollection, waiting: Waiting[], action = "migrate", copy = true): ReturnType<typeof encodeValue> {
  const cls = record.chare!.constructor;
  const hidden = privateMembers(cls, Chare);
  if (hidden.length) throw new CharmError(privateMembersRefusal(record.label, cls, hidden, action));
  const boxes: PackedElement["boxes"] = [];
  for (const [from, box] of rt.channels.boxesOf(record)) {
    if (box.receivers.length > 0 || box.watchers.length > 0) throw new CharmError(`${record.label} is waiting on a channel; it can move once the entry method waiting returns`);
    boxes.push([from, box.expected, box.sendSeq, box.ready, [...box.early]]);
  }
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(record.chare!)) fields[key] = (record.chare as any)[key];
  // Broadcast calls still waiting have not run: they must run once on the new PE.
  const notRun = new Set(waiting.flatMap((w) => (w.origin.kind === "bcast" ? [w.origin.b] : [])));
  const seen = (record.seen ? [...record.seen] : [...moveLog(coll).recent]).filter((b) => !notRun.has(b));
  const packed: PackedElement = { fields, redNo: record.redNo, moves: (record.moves ?? 0) + 1, load: record.load ?? 0, seen, boxes };
  if (record.sectionRedNo) packed.sec = [...record.sectionRedNo];
  if (record.syncOnArrival) packed.sync = 1;
  if (record.syncs) packed.syncs = record.syncs;
  packing = record;
  try {
    return encodeValue(packed, `${record.label}'s state`, copy);
  } catch (err) {
    if (err instanceof CharmError) throw new CharmError(`${record.label} can't ${action}: ${err.message}`);
    throw err;
  } finally {
    packing = undefined;
  }
}

/** An element arrives: rebuilt without its constructor, then `migrated()` runs. */
export function immigrate(rt: MigrationRuntime, msg: MigrateMsg): void {
  const coll = rt.runner.collection(msg.ref.cid, msg.ref);
  if (!coll.created) { coll.pending.push(msg); return; } // its collection's creation is still on its way here
  const key = indexKey(msg.idx);
  const record = newRecord(coll.ref, msg.idx, key, rt.self);
  const cls = chareClass(msg.ref.cls, rt.self);
  // Allocated as `new cls()` would, without running cls's constructor; fields then arrive in
  // their original order, so moved and unmoved chares share one hidden class.
  const chare = allocateChare(cls, record);
  coll.elements.set(key, record);
  // Channels in its fields find their inboxes through the record, so it is in place first.
  const packed = (msg.r ? decode(msg.s) : msg.s) as PackedElement;
  unpackElement(rt, record, packed);
  rt.noteLocation(coll.ref.cid, key, rt.self, packed.moves);
  rt.reductions.arrived(record);
  if (!msg.planned) announce(rt, coll.ref, msg.idx, packed.moves);
  const hook = (chare as { migrated?: unknown }).migrated;
  if (typeof hook === "function") {
    try {
      hook.call(chare);
    } catch (err) {
      rt.reportUnhandled(errorToData(err, rt.self, record.label, "migrated"));
    }
  }
  rt.balancing.arrived(record, msg.planned === 1);
  if (packed.sync) rt.balancing.atSync(record);
  rt.runner.releaseHeld(coll.ref.cid, key); // messages that got here before it, in arrival order
}

/**
 * Puts a packed (decoded) state into a record whose chare was allocated without its constructor;
 * `restored`: from a checkpoint, with no broadcast history (this PE's log covers it from now on).
 */
export function unpackElement(rt: MigrationRuntime, record: ElementRecord, packed: PackedElement, restored = false): void {
  const chare = record.chare as unknown as Record<string, unknown>;
  for (const key of Object.keys(packed.fields)) chare[key] = packedNumbers(packed.fields[key]);
  record.redNo = packed.redNo;
  if (packed.sec) record.sectionRedNo = new Map(packed.sec);
  record.moves = packed.moves;
  if (packed.syncs) record.syncs = packed.syncs;
  if (record.load !== undefined) record.load = packed.load;
  if (!restored) record.seen = new Set(packed.seen);
  for (const [from, expected, sendSeq, ready, early] of packed.boxes) {
    const box: Inbox = rt.channels.inbox(record, from);
    box.expected = expected;
    box.sendSeq = sendSeq;
    box.ready.push(...ready);
    for (const [seq, v] of early) box.early.set(seq, v);
  }
}

/**
 * Structured clone revives a number[] with generic (boxed) elements; hot loops over it then run
 * several times slower, and so does the same code on chares that never moved. Rebuilt arrays of
 * numbers get V8's packed number storage back; nested arrays and plain objects are visited too.
 */
function packedNumbers(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object" || depth > 4) return value;
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((x) => typeof x === "number")) return Array.from(value as number[]);
    for (let i = 0; i < value.length; i++) value[i] = packedNumbers(value[i], depth + 1);
    return value;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const key of Object.keys(value)) (value as Record<string, unknown>)[key] = packedNumbers((value as Record<string, unknown>)[key], depth + 1);
  }
  return value;
}

/** Tells every endpoint where an element is now (a move nobody planned for them). */
function announce(rt: MigrationRuntime, ref: CollectionRef, idx: Index, moves: number): void {
  const msg: Message = { t: "moved", cid: ref.cid, idx, pe: rt.self, n: moves };
  for (let pe = 0; pe < rt.numPes; pe++) if (pe !== rt.self) rt.send(pe, msg);
  rt.send(DRIVER, msg);
}

function moveLog(coll: LocalCollection): MoveLog {
  return (coll.moves ??= { recent: [], gone: [], count: 0 });
}

/**
 * Before a broadcast runs here: remembers it, and forwards it to elements that left recently
 * (it may have reached their new PE before they did).
 */
export function noteBroadcast(rt: MigrationRuntime, coll: LocalCollection, msg: BcastMsg): void {
  if (msg.only) return; // a forwarded copy for one element: not part of this PE's history
  const kind = coll.ref.kind;
  if (kind !== "array" && kind !== "sparse") return; // groups and singletons never move
  const l = moveLog(coll);
  l.count++;
  l.recent.push(msg.b);
  if (l.recent.length > RECENT) l.recent.shift();
  if (l.gone.length === 0) return;
  l.gone = l.gone.filter((g) => g.until > l.count);
  for (const g of l.gone) rt.sendToElement(coll.ref, g.idx, { ...msg, a: structuredClone(msg.a), only: g.idx });
}

/** Whether `record` runs broadcast `b` now (false: it already ran it before it moved). */
export function firstTime(record: ElementRecord, b: number): boolean {
  const seen = record.seen;
  if (!seen) return true;
  if (seen.has(b)) return false;
  seen.add(b);
  if (seen.size > 2 * RECENT) seen.delete(seen.values().next().value!);
  return true;
}
