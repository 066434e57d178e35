/**
 * A PE's part of charm.checkpoint: every element it holds, packed as for a move, written to its
 * own file. The driver asks only at quiescence, so no message is in flight; what quiescence
 * allows but a file can't hold (an entry method suspended at an await, a call waiting for its
 * `when` condition, a reduction or an AtSync round half done) is refused with the element named.
 * Checkpoints at AtSync barriers ask first (checkHere), so a refusal there writes nothing.
 */
import { CharmError } from "../protocol/errors.ts";
import { scopeTarget, type ReductionScope } from "../protocol/ids.ts";
import { packElement } from "../core/migration.ts";
import type { Runtime } from "../core/runtime.ts";
import type { ElementRecord } from "../core/chare.ts";
import { declaredFields } from "./fields.ts";
import { findChareClass } from "../core/registry.ts";
import { Chare } from "../core/chare.ts";
import { privateMembers, privateMembersRefusal } from "../core/private-members.ts";
import type { FileEntry, SavedCollection } from "./format.ts";
import { ElementWriter } from "./writer.ts";
import { buddyOf, keepWithBuddy, partMemory } from "./memory.ts";

/** What the driver asks: where (or in memory, kept here and on the buddy PE), and the checkpoint's file name stem. */
export interface SaveRequest {
  dir: string;
  stem: string;
  inMemory?: boolean;
  /** Arrays whose elements all wait at their AtSync barrier (checkpoint/auto.ts): saved there, not refused. */
  atSync?: number[];
  /** In memory: the PE that keeps a copy of this one's part (the driver knows which PEs share a process). */
  buddy?: number;
}

/** What a PE answers: its file, and the collections it holds elements of. */
export interface SaveAnswer {
  file: FileEntry;
  collections: SavedCollection[];
}

// The task pool's workers belong to the runtime, not to the program: a restored runtime makes its own.
const NOT_SAVED = new Set(["PoolWorker"]);

/** The file name of PE `pe`'s part of checkpoint `stem`. */
export function fileName(stem: string, pe: number): string {
  return `${stem}.pe${pe}.bin`;
}

/** Writes this PE's elements; resolves with its manifest entry and the collections seen. */
export async function saveHere(rt: Runtime, req: SaveRequest): Promise<SaveAnswer> {
  const open = rt.reductions.openScopes();
  if (open.length) throw new CharmError(openReductions(rt, open));
  const name = fileName(req.stem, rt.self);
  const buddy = req.buddy ?? buddyOf(rt.self, rt.numPes);
  const writer = req.inMemory ? ElementWriter.inMemory((bytes) => partMemory(rt, bytes, buddy)) : await ElementWriter.create(req.dir, name);
  const collections: SavedCollection[] = [];
  const atBarrier = new Set(req.atSync ?? []);
  try {
    for (const coll of rt.runner.byId.values()) {
      // A collection with no elements here is saved too (a sparse array whose elements come
      // later): proxies to it are in chares' state and named values, and must reach it restored.
      if (!coll.created || coll.failed || NOT_SAVED.has(coll.ref.cls)) continue;
      let fields = coll.elements.size === 0 ? classFields(coll.ref.cls) : undefined;
      if (fields === null) continue; // its class isn't known here: a PE that holds elements of it names it
      for (const record of coll.elements.values()) {
        if (fields === undefined) {
          const cls = record.chare!.constructor;
          const hidden = privateMembers(cls, Chare);
          if (hidden.length) throw new CharmError(privateMembersRefusal(record.label, cls, hidden, "be saved"));
          fields = declaredFields(cls);
        }
        checkSavable(rt, record, atBarrier);
        // Plain state (most elements) is written as it is; the rest is packed as for a move. Its
        // broadcast history isn't needed (a restore starts a new one), and a channel inbox goes packed.
        if (rt.channels.hasBoxes(record) || !writer.addPlain(coll.ref.cid, record)) {
          // Not copied: the state is serialized before anything else runs, so its typed arrays may be shared meanwhile.
          const enc = packElement(rt, record, coll, [], "be saved", false);
          writer.add({ c: coll.ref.cid, i: record.index, s: enc.v }, enc.bytes ?? 0);
        }
        const pending = writer.due();
        if (pending) await pending;
      }
      const total = rt.census.totals.get(coll.ref.cid);
      collections.push({ ref: coll.ref, fields: fields!, ...(total === undefined ? {} : { total }) });
    }
    const { file, data } = await writer.close(rt.self, name);
    if (!data) return { file, collections };
    await keepWithBuddy(rt, req.stem, data, buddy);
    return { file: { ...file, buddy }, collections };
  } catch (err) {
    await writer.discard();
    throw err;
  }
}

/** The declared fields of chare class `name`, or null where it isn't defined. */
function classFields(name: string): string[] | null {
  const cls = findChareClass(name);
  return cls ? declaredFields(cls) : null;
}

/** Why an element can't be saved now; `round`: it is in a load-balancing round (a barrier checkpoint skips, see barrier.ts). */
export interface Unsavable {
  why: string;
  round: boolean;
}

/**
 * Whether this PE's elements can be saved now, with the arrays `atSync` at their barrier: the
 * first element in a load-balancing round, else the first reason a save would refuse.
 */
export function checkHere(rt: Runtime, atSync: number[]): Unsavable | null {
  const atBarrier = new Set(atSync);
  let other: Unsavable | undefined;
  for (const coll of rt.runner.byId.values()) {
    if (!coll.created || coll.failed || NOT_SAVED.has(coll.ref.cls)) continue;
    for (const record of coll.elements.values()) {
      const problem = unsavable(rt, record, atBarrier);
      if (problem?.round) return problem;
      other ??= problem;
    }
  }
  if (other) return other;
  const open = rt.reductions.openScopes();
  return open.length ? { why: openReductions(rt, open), round: false } : null;
}

/** Throws when an element is in the middle of something a checkpoint can't hold. */
function checkSavable(rt: Runtime, record: ElementRecord, atBarrier: Set<number>): void {
  const problem = unsavable(rt, record, atBarrier);
  if (problem) throw new CharmError(problem.why);
}

function unsavable(rt: Runtime, record: ElementRecord, atBarrier: Set<number>): Unsavable | undefined {
  if (record.busy === 0 && !record.atSync && record.leaving === undefined && rt.runner.conditions.count(record) === 0) return undefined; // the usual case, without the message
  const now = `${record.label} on PE ${rt.self}`;
  if (record.busy > 0) return { why: `${now} is suspended in an async entry method (at an await); checkpoint when no entry method is waiting`, round: false };
  if (rt.runner.conditions.count(record) > 0) return { why: `${now} has calls waiting for their when-condition; checkpoint once they have run`, round: false };
  if ((record.atSync && !atBarrier.has(record.ref.cid)) || record.leaving !== undefined) return { why: `${now} is in a load-balancing round (it called AtSync or is moving); checkpoint after resumeFromSync`, round: true };
  return undefined;
}

function openReductions(rt: Runtime, open: ReductionScope[]): string {
  return `PE ${rt.self} holds a reduction that some elements have contributed to and others not yet (${scopeNames(rt, open)}); checkpoint once every reduction has completed`;
}

function scopeNames(rt: Runtime, scopes: ReductionScope[]): string {
  return scopes.map((s) => {
    const over = scopeTarget(s);
    return over.kind === "section" ? `a section's reduction` : `${rt.runner.byId.get(over.cid)?.ref.cls ?? "a collection"}'s`;
  }).join(", ");
}
