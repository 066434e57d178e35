/**
 * Saved state as encoded for a move: runtime objects are tagged references ({ $charm: … }) that
 * name collections, sections and futures by id. A restored runtime mints new ids (ids of an
 * earlier run are refused, and would collide with new ones), so the references are rewritten
 * before decoding; user data beside them is left alone.
 */
import type { CollectionRef } from "../protocol/messages.ts";

/** Old ids → new: collections (with their new ref: a singleton may be on another PE), sections, futures. */
export interface Remap {
  cids: Map<number, CollectionRef>;
  sids: Map<number, number>;
  fids: Map<number, number>;
  /**
   * Collections the checkpoint mentions but doesn't hold (a sparse array nothing was inserted
   * into yet, one destroyed before it): old id → new, so an old id, which the restored runtime
   * may mint again for a collection of its own, never reaches that one.
   */
  others?: Map<number, number>;
}

// Where a tagged reference holds another one whose ids are rewritten too.
const NESTED = ["proxy", "remote", "sec"] as const;

/** Calls `visit` with each collection id a tagged reference names (nested references too), and the kind it says, if any. */
export function eachCollectionOf(ref: Record<string, unknown>, visit: (cid: number, kind: unknown) => void): void {
  if (typeof ref.cid === "number") visit(ref.cid, ref.kind);
  for (const key of NESTED) {
    const inner = ref[key];
    if (inner !== null && typeof inner === "object") eachCollectionOf(inner as Record<string, unknown>, visit);
  }
}

type Tagged = { $charm: string; [key: string]: unknown };

/** Calls `visit` on every tagged reference inside an encoded value (inside serializable objects' fields too). */
export function eachTagged(value: unknown, visit: (t: Tagged) => void, walked = new Set<object>()): void {
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return;
  // Shared and circular references stay so in an encoded value: each object is visited once.
  if (walked.has(value)) return;
  walked.add(value);
  if (Array.isArray(value)) { for (const v of value) eachTagged(v, visit, walked); return; }
  if (value instanceof Map) { for (const [k, v] of value) { eachTagged(k, visit, walked); eachTagged(v, visit, walked); } return; }
  if (value instanceof Set) { for (const v of value) eachTagged(v, visit, walked); return; }
  const tag = (value as Partial<Tagged>).$charm;
  if (typeof tag === "string") {
    visit(value as Tagged);
    if (tag === "obj") eachTagged((value as { f?: unknown }).f, visit, walked); // a user class's fields: user data again
    return;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return; // Date, RegExp, Error: nothing inside
  for (const key of Object.keys(value)) eachTagged((value as Record<string, unknown>)[key], visit, walked);
}

/** Rewrites the ids in one reference (a proxy, bound method, channel, section or future) and the refs nested in it. */
export function remapRef(ref: Record<string, unknown>, m: Remap): void {
  if (typeof ref.cid === "number") {
    const now = m.cids.get(ref.cid);
    if (now) {
      ref.cid = now.cid;
      if (ref.kind === "single") ref.pe = now.pe;
    } else ref.cid = m.others?.get(ref.cid) ?? ref.cid;
  }
  if (typeof ref.sid === "number") ref.sid = m.sids.get(ref.sid) ?? ref.sid;
  if (typeof ref.fid === "number") ref.fid = m.fids.get(ref.fid) ?? ref.fid;
  for (const key of NESTED) {
    const inner = ref[key];
    if (inner !== null && typeof inner === "object") remapRef(inner as Record<string, unknown>, m);
  }
}

/** Rewrites every reference inside an encoded value, in place. */
export function remapValue(value: unknown, m: Remap): void {
  eachTagged(value, (t) => { if (t.$charm !== "obj") remapRef(t, m); });
}

/** A channel inbox's key ("cid:index:port", the sending end) with its collection id rewritten. */
export function remapEndName(name: string, m: Remap): string {
  const colon = name.indexOf(":");
  const old = Number(name.slice(0, colon));
  const now = m.cids.get(old)?.cid ?? m.others?.get(old);
  return now === undefined ? name : `${now}${name.slice(colon)}`;
}
