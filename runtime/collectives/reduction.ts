/**
 * Reductions over a collection: every element's i-th contribution belongs to reduction i. Each
 * PE combines the contributions of its elements into one partial, with how many contributions
 * it holds, and sends it up a spanning tree of PEs towards the collection's root PE (combining
 * with the partials that reach a PE while its own share is open); the root delivers the result
 * once the count reaches the number of elements — to a future, an entry method, a broadcast, or
 * (allreduce) back to every PE that took part. Broadcasts with replies use the same machinery,
 * keyed by their future. On few PEs a reduction into a future skips the tree: each PE's partial
 * goes straight to the future's home, which completes it (one hop after the elements' work).
 *
 * Counting at the root, rather than each PE waiting for a fixed set of children, is what lets
 * elements migrate: a PE completes its share when every element *present* has contributed, an element that arrives
 * owing a contribution is waited for, and a contribution made after the share was sent (its
 * element arrived late) goes to the root as one more partial.
 *
 * A section's reductions use the same shares and roots under the section's own scope
 * (`sectionScope`): members count per section, the section's size is the count the root waits
 * for, and gather orders by position in the section.
 */
import { CharmError, errorToData } from "../protocol/errors.ts";
import {
  collectionScope, compareIndex, homeOf, isReplyKey, scopeTarget, sectionScope,
  type CollectionId, type Endpoint, type FutureId, type Index, type ReductionKey as Key, type ReductionScope as Scope, type ReplyKey,
} from "../protocol/ids.ts";
import type { ErrorData, Message, Partial, ReplyRef, TargetRef } from "../protocol/messages.ts";
import { decode, encodeValue } from "../protocol/codec.ts";
import type { Runtime } from "../core/runtime.ts";
import type { ElementRecord } from "../core/chare.ts";
import { nextSectionReduction, sectionReductionNumber, type Section } from "../sections/registry.ts";
import { sectionLabel } from "../sections/multicast.ts";
import { Future, rejectFuture, sendToFuture, settleLocal, failLocal } from "../core/future.ts";
import { boundTarget } from "../core/proxy.ts";
import { callTarget, resolveTarget } from "./targets.ts";
import { isReducer, mixedReducers, reducerFn, type ReducerName } from "./reducers.ts";
import { combine, decodePart } from "./partials.ts";

type ContribMsg = Extract<Message, { t: "contrib" }>;

// Partials go up a 4-ary tree over the PEs, rooted at the reduction's root: shallow (log4),
// and no PE receives from more than four others.
const BRANCHING = 4;
// On this many PEs or fewer, partials for a future skip the tree and go straight to the
// future's home (the driver, usually): one hop after the elements' work instead of a hop to the
// root PE and another from there. The future's home then receives one partial per PE.
const DIRECT_PES = 8;

/** The PE above `pe` in the tree over `numPes` PEs rooted at `root`. */
export function parentPe(pe: number, root: number, numPes: number): number {
  const pos = (pe - root + numPes) % numPes;
  return (Math.floor((pos - 1) / BRANCHING) + root) % numPes;
}

/** Where a reduction's result goes: a Future, or a bound entry method (`proxy.method`, `proxy.at(0).method`). */
export type ReductionTarget = Future<any> | ((...args: any[]) => unknown);

/** This PE's share of one reduction. */
interface LocalShare {
  readonly scope: Scope;
  readonly key: Key;
  reducer: ReducerName | undefined;
  target: TargetRef | undefined;
  all: boolean;
  /** Contributions made here (gather: [index, value] pairs), already copied. */
  readonly local: unknown[];
  /** Elements here that still owe this reduction a contribution. */
  owed: number;
  error: ErrorData | undefined;
  /** Partials from PEs below this one in the tree that arrived while it was still open. */
  readonly parts: Partial[];
  /** The PEs whose contributions those partials hold. */
  readonly pes: number[];
}

/** The root's view of one reduction: the partials so far. */
interface RootState {
  reducer: ReducerName | undefined;
  target: TargetRef | undefined;
  all: boolean;
  /** Contributions that must arrive (undefined until a partial says). */
  of: number | undefined;
  n: number;
  readonly parts: Partial[];
  /** PEs that sent partials (an allreduce's result goes back to them). */
  readonly from: Set<Endpoint>;
}

/** What reductions use of their runtime: sending, hosted elements, sections, the census and collection facts. */
export type ReductionsRuntime = Pick<Runtime, "census" | "elementCount" | "runner" | "numPes" | "reportUnhandled" | "rootPe" | "sections" | "self" | "send">;

/** The reductions in flight on this PE. */
export class Reductions {
  // Keyed by scope (collection or section), then reduction number: no string key built per contribution.
  private readonly shares = new Map<Scope, Map<Key, LocalShare>>();
  private readonly roots = new Map<Scope, Map<Key, RootState>>();
  private readonly allWaiters = new Map<string, FutureId[]>();

  constructor(private readonly rt: ReductionsRuntime) {}

  /** Scopes with a reduction partly contributed here. */
  openScopes(): Scope[] {
    return [...new Set([...this.shares.keys(), ...this.roots.keys()])];
  }

  /** An element's contribution (to a section's reduction when `section` is given); returns the element's Future for an allreduce. */
  contribute(record: ElementRecord, data: unknown, reducer: ReducerName | undefined, target: ReductionTarget | "all", section?: Section): Future<unknown> | undefined {
    if (reducer === undefined) {
      if (data !== undefined) throw new CharmError(`${record.label}: contribute(data, reducer, target) needs a reducer for its data (Reducer.sum, Reducer.max, Reducer.gather, …)`);
      reducer = "nop";
    }
    if (!isReducer(reducer)) reducerFn(reducer); // throws the "unknown reducer" error
    const position = section?.position(record);
    if (section && position === undefined) throw new CharmError(`${record.label} is not a member of ${sectionLabel(section.ref)}; only a section's members contribute to its reductions`);
    const scope = section ? sectionScope(section.sid) : collectionScope(record.ref.cid);
    const key = section ? nextSectionReduction(record, section.sid) : record.redNo++;
    let opened = false;
    // A share opened now counts the others that owe it (this element's reduction number has
    // moved on); an open one counted this element too.
    const share = this.share(scope, key, () => { opened = true; return section ? this.owedInSection(section, key) : this.owedBy(record.ref.cid, key); });
    if (!opened) share.owed--;
    if (share.reducer !== undefined && share.reducer !== reducer) share.error ??= errorToData(mixedReducers(share.reducer, reducer, record.label), this.rt.self, record.label, "contribute");
    share.reducer ??= reducer;
    // Only the first contribution's target is kept: the others are checked, not converted
    // (a TargetRef per element was a measurable share of a 1,000-element reduction).
    if (target !== "all") {
      if (share.target === undefined) share.target = resolveTarget(target, record.label);
      else if (!(target instanceof Future) && boundTarget(target) === undefined) resolveTarget(target, record.label);
    }
    share.all ||= target === "all";
    // A contribution that can't be sent fails the contributing entry method (thrown below) and,
    // as the share's error, the reduction: its target must not wait for it forever.
    let value: unknown;
    let unsendable: unknown;
    try {
      value = reducer === "nop" ? undefined : copy(data, record.label, "contribution");
    } catch (err) {
      unsendable = err;
      share.error ??= errorToData(err, this.rt.self, record.label);
    }
    share.local.push(reducer === "gather" ? [section ? [position] : record.index, value] : value);
    let future: Future<unknown> | undefined;
    if (target === "all") {
      future = new Future();
      const id = `${scope}|${key}`;
      const list = this.allWaiters.get(id);
      if (list) list.push(future.id); else this.allWaiters.set(id, [future.id]);
    }
    this.trySend(share);
    if (unsendable !== undefined) throw unsendable;
    return future;
  }

  /** A broadcast (or a section's multicast) asking for replies reached `count` elements here: open their share. */
  expectReplies(scope: Scope, key: ReplyKey, reply: ReplyRef, count: number): void {
    // No elements here and the root knows how many answers to wait for: nothing to send.
    if (count === 0 && this.rootAndCount(scope)[1] !== undefined) return;
    const share = this.share(scope, key, () => 0);
    share.owed += count; // a forwarded copy may join a share already open here
    share.reducer = reply.mode === "value" ? "gather" : "nop";
    share.target = { k: "future", fid: reply.fid };
    this.trySend(share);
  }

  /** One element's reply to a broadcast (or a section's multicast) that asked for values or completion. */
  contributeReply(record: ElementRecord, key: ReplyKey, reply: ReplyRef, value: unknown, error: ErrorData | undefined, section?: Section): void {
    const share = this.share(section ? sectionScope(section.sid) : collectionScope(record.ref.cid), key, () => 1);
    share.reducer = reply.mode === "value" ? "gather" : "nop";
    share.target = { k: "future", fid: reply.fid };
    share.owed--;
    if (error) share.error ??= error;
    let v: unknown;
    try {
      v = reply.mode === "value" ? copy(value, record.label, "return value") : undefined;
    } catch (err) {
      share.error ??= errorToData(err, this.rt.self, record.label);
    }
    share.local.push(reply.mode === "value" ? [section ? [section.position(record)] : record.index, v] : undefined);
    this.trySend(share);
  }

  /** An element left with a broadcast call still waiting: its reply will come from its new PE. */
  replyMoved(scope: Scope, key: ReplyKey): void {
    const share = this.shares.get(scope)?.get(key);
    if (!share) return;
    share.owed--;
    this.trySend(share);
  }

  /** An element left this PE: shares it still owed no longer wait for it. */
  departed(record: ElementRecord): void {
    this.forOwed(record, (share) => { share.owed--; this.trySend(share); });
  }

  /** An element arrived on this PE: open shares it still owes wait for it. */
  arrived(record: ElementRecord): void {
    this.forOwed(record, (share) => { share.owed++; });
  }

  /**
   * A partial travelling up the tree. Below the root, it joins this PE's own share when that is
   * still open (so they go up as one), or goes on to the parent at once: a PE never waits for a
   * child that may have nothing to send (its elements may all have moved away).
   */
  receivePartial(msg: ContribMsg): void {
    if (msg.root !== this.rt.self) {
      const share = this.shares.get(msg.scope)?.get(msg.key);
      if (share && share.owed > 0) {
        share.parts.push(msg.r ? decodePart(msg.part, this.rt.self) : msg.part);
        share.pes.push(...msg.pes);
        if (share.reducer !== undefined && share.reducer !== msg.reducer) share.error ??= errorToData(mixedReducers(share.reducer, msg.reducer as ReducerName), this.rt.self);
        share.reducer ??= msg.reducer as ReducerName;
        share.target ??= msg.target;
        share.all ||= msg.all === 1;
        return;
      }
      this.rt.send(parentPe(this.rt.self, msg.root, this.rt.numPes), msg);
      return;
    }
    const root = this.root(msg.scope, msg.key);
    const mixed = root.reducer !== undefined && root.reducer !== msg.reducer ? errorToData(mixedReducers(root.reducer, msg.reducer as ReducerName), this.rt.self) : undefined;
    root.reducer ??= msg.reducer as ReducerName;
    root.target ??= msg.target;
    root.all ||= msg.all === 1;
    root.of ??= msg.of;
    root.n += msg.part.n;
    for (const pe of msg.pes) root.from.add(pe);
    const part = msg.r ? decodePart(msg.part, this.rt.self) : msg.part;
    root.parts.push(mixed && !part.e ? { ...part, v: undefined, e: mixed } : part);
    this.tryDeliver(msg.scope, msg.key, root);
  }

  /** A sparse array's size became known (doneInserting): reductions waiting on it may finish. */
  totalKnown(cid: CollectionId): void {
    const scope = collectionScope(cid);
    const byKey = this.roots.get(scope);
    if (!byKey) return;
    const of = this.rt.census.totals.get(cid);
    for (const [key, root] of [...byKey]) {
      root.of ??= of;
      this.tryDeliver(scope, key, root);
    }
  }

  /** An allreduce result sent back to a PE that took part. */
  receiveResult(msg: Extract<Message, { t: "down" }>): void {
    let value: unknown;
    let error = msg.e;
    try {
      value = msg.r ? decode(msg.v) : msg.v;
    } catch (err) {
      error ??= errorToData(err, this.rt.self, undefined, "an allreduce result");
    }
    this.settleAll(msg.scope, msg.key, value, error);
  }

  private share(scope: Scope, key: Key, owed: () => number): LocalShare {
    let byKey = this.shares.get(scope);
    if (!byKey) this.shares.set(scope, (byKey = new Map()));
    let s = byKey.get(key);
    if (!s) {
      s = { scope, key, reducer: undefined, target: undefined, all: false, local: [], owed: owed(), error: undefined, parts: [], pes: [] };
      byKey.set(key, s);
    }
    return s;
  }

  /** How many elements here still owe reduction `key` (their next reduction is at most `key`). */
  private owedBy(cid: CollectionId, key: number): number {
    let owed = 0;
    for (const r of this.rt.runner.collection(cid).elements.values()) if (r.redNo <= key) owed++;
    return owed;
  }

  /** How many members here still owe a section's reduction `key`. */
  private owedInSection(section: Section, key: number): number {
    let owed = 0;
    for (const ref of section.refs) {
      const keys = section.keysIn(ref.cid)!;
      const elements = this.rt.runner.byId.get(ref.cid)?.elements;
      if (!elements) continue;
      // Walk whichever is smaller: a small section of a big array, or few elements here.
      if (keys.size < elements.size) {
        for (const k of keys.keys()) { const r = elements.get(k); if (r && sectionReductionNumber(r, section.sid) <= key) owed++; }
      } else {
        for (const r of elements.values()) if (keys.has(r.key) && sectionReductionNumber(r, section.sid) <= key) owed++;
      }
    }
    return owed;
  }

  private forOwed(record: ElementRecord, visit: (share: LocalShare) => void): void {
    const byKey = this.shares.get(collectionScope(record.ref.cid));
    if (byKey) for (const share of [...byKey.values()]) if (!isReplyKey(share.key) && record.redNo <= share.key) visit(share);
    // Reductions open here over sections it belongs to.
    for (const [scope, shares] of [...this.shares]) {
      const over = scopeTarget(scope);
      if (over.kind !== "section") continue;
      const section = this.rt.sections.get(over.sid);
      if (section?.position(record) === undefined) continue;
      const next = sectionReductionNumber(record, section.sid);
      for (const share of [...shares.values()]) if (!isReplyKey(share.key) && next <= share.key) visit(share);
    }
  }

  /** The PE that completes a scope's reductions, and how many contributions each needs (undefined: not known yet). */
  private rootAndCount(scope: Scope): [number, number | undefined] {
    const over = scopeTarget(scope);
    if (over.kind === "section") {
      const section = this.rt.sections.get(over.sid)!;
      return [section.root(this.rt.numPes), section.size];
    }
    const ref = this.rt.runner.collection(over.cid).ref;
    return [this.rt.rootPe(ref), this.rt.elementCount(ref)];
  }

  private trySend(share: LocalShare): void {
    if (share.owed > 0 || share.target === undefined && !share.all) return;
    const byKey = this.shares.get(share.scope)!;
    byKey.delete(share.key);
    if (byKey.size === 0) this.shares.delete(share.scope);
    const part = combine(share.reducer!, share.local, share.parts, share.error, this.rt.self);
    const [treeRoot, of] = this.rootAndCount(share.scope);
    const root = this.directRoot(share, of) ?? treeRoot;
    const msg: ContribMsg = { t: "contrib", scope: share.scope, key: share.key, reducer: share.reducer!, target: share.target, all: share.all ? 1 : undefined, part, of, root, pes: [this.rt.self, ...share.pes] };
    // The root's own share joins the others without a message.
    if (root === this.rt.self) { this.receivePartial(msg); return; }
    const enc = encodeValue(part.v, "a reduction's partial result");
    this.rt.send(root === treeRoot ? parentPe(this.rt.self, root, this.rt.numPes) : root, { ...msg, part: { ...part, v: enc.v }, r: enc.r }, enc.transfer);
  }

  /**
   * The future's home, when partials go straight there (see DIRECT_PES): only when every PE
   * decides the same — the count is known everywhere alike (not a sparse array's, which PEs
   * learn at different times) and the result doesn't go back to the PEs (allreduce).
   */
  private directRoot(share: LocalShare, of: number | undefined): Endpoint | undefined {
    if (share.all || share.target?.k !== "future" || of === undefined || this.rt.numPes > DIRECT_PES) return undefined;
    const over = scopeTarget(share.scope);
    if (over.kind === "collection" && this.rt.runner.collection(over.cid).ref.kind === "sparse") return undefined;
    return homeOf(share.target.fid);
  }

  private root(scope: Scope, key: Key): RootState {
    let byKey = this.roots.get(scope);
    if (!byKey) this.roots.set(scope, (byKey = new Map()));
    let s = byKey.get(key);
    if (!s) {
      s = { reducer: undefined, target: undefined, all: false, of: undefined, n: 0, parts: [], from: new Set() };
      byKey.set(key, s);
    }
    return s;
  }

  private tryDeliver(scope: Scope, key: Key, root: RootState): void {
    // A sparse array's broadcast before doneInserting can't be counted: every PE answers instead.
    const complete = root.of !== undefined ? root.n >= root.of : isReplyKey(key) && root.from.size >= this.rt.numPes;
    if (!complete) return;
    const byKey = this.roots.get(scope)!;
    byKey.delete(key);
    if (byKey.size === 0) this.roots.delete(scope);
    const part = combine(root.reducer!, [], root.parts, undefined, this.rt.self);
    let result = part.v;
    if (root.reducer === "gather") result = ((part.v as [Index, unknown][] | undefined) ?? []).sort((a, b) => compareIndex(a[0], b[0])).map((p) => p[1]);
    if (root.all) { this.spreadResult(scope, key, root, result, part.e); return; }
    const target = root.target;
    if (!target) throw new CharmError("a reduction completed without a target");
    if (target.k === "future") {
      if (part.e) rejectFuture(target.fid, part.e);
      else sendToFuture(target.fid, result);
    } else if (part.e) this.rt.reportUnhandled(part.e);
    else callTarget(target, root.reducer === "nop" ? [] : [result]);
  }

  private spreadResult(scope: Scope, key: Key, root: RootState, result: unknown, error: ErrorData | undefined): void {
    const others = [...root.from].filter((pe) => pe !== this.rt.self);
    if (others.length) {
      const enc = encodeValue(result, "an allreduce result");
      for (const pe of others) this.rt.send(pe, { t: "down", scope, key, v: enc.v, r: enc.r, e: error }, others.length === 1 ? enc.transfer : undefined);
    }
    if (root.from.has(this.rt.self)) this.settleAll(scope, key, others.length ? structuredClone(result) : result, error);
  }

  private settleAll(scope: Scope, key: Key, result: unknown, error: ErrorData | undefined): void {
    const id = `${scope}|${key}`;
    const waiters = this.allWaiters.get(id) ?? [];
    this.allWaiters.delete(id);
    for (const fid of waiters) {
      if (error) failLocal(fid, error);
      else settleLocal(fid, waiters.length > 1 ? structuredClone(result) : result);
    }
  }
}

function copy(value: unknown, who: string, what: string): unknown {
  const t = typeof value;
  if (value === null || (t !== "object" && t !== "function" && t !== "symbol")) return value; // a primitive: nothing to copy
  const enc = encodeValue(value, `${who}'s ${what}`);
  return enc.r ? decode(enc.v) : enc.v;
}
