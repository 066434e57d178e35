/**
 * Reductions over a collection: every element's i-th contribution belongs to reduction i. Each
 * PE combines its own elements' contributions, waits for its children in the spanning tree
 * over the collection's PEs, and sends one partial to its parent; the root delivers the result
 * to a future, an entry method, a broadcast, or (allreduce) back down the tree to everyone.
 * Broadcasts with replies reuse the same machinery, keyed by their future.
 */
import { CharmError, errorToData } from "../protocol/errors.ts";
import { compareIndex, type FutureId, type Index } from "../protocol/ids.ts";
import type { ErrorData, Message, Partial, ReplyRef, TargetRef } from "../protocol/messages.ts";
import { decode, encodeValue } from "../protocol/codec.ts";
import type { Runtime } from "../core/runtime.ts";
import type { ElementRecord } from "../core/chare.ts";
import type { LocalCollection } from "../core/host.ts";
import { Future, rejectFuture, sendToFuture, settleLocal, failLocal } from "../core/future.ts";
import { boundTarget } from "../core/proxy.ts";
import { callTarget } from "./targets.ts";
import { isReducer, reducerFn, type ReducerName } from "./reducers.ts";
import { childPositions, parentPosition } from "./tree.ts";

/** Where a reduction's result goes: a Future, or a bound entry method (`proxy.method`, `proxy.at(0).method`). */
export type ReductionTarget = Future<any> | ((...args: any[]) => unknown);

type Key = number | string;

interface ReductionState {
  readonly cid: number;
  readonly key: Key;
  reducer: ReducerName | undefined;
  target: TargetRef | undefined;
  all: boolean;
  /** Local contributions (gather: [index, value] pairs), already copied. */
  readonly local: unknown[];
  /** Partials from children in the tree. */
  readonly children: Partial[];
  error: ErrorData | undefined;
}

/** The reductions in flight on this PE. */
export class Reductions {
  // Keyed by collection, then reduction number: no string key built per contribution.
  private readonly states = new Map<number, Map<Key, ReductionState>>();
  private readonly allWaiters = new Map<string, FutureId[]>();

  constructor(private readonly rt: Runtime) {}

  /** An element's contribution; returns the element's Future for an allreduce. */
  contribute(record: ElementRecord, data: unknown, reducer: ReducerName | undefined, target: ReductionTarget | "all"): Future<unknown> | undefined {
    if (reducer === undefined) {
      if (data !== undefined) throw new CharmError(`${record.label}: contribute(data, reducer, target) needs a reducer for its data (Reducer.sum, Reducer.max, Reducer.gather, …)`);
      reducer = "nop";
    }
    if (!isReducer(reducer)) reducerFn(reducer); // throws the "unknown reducer" error
    const key = record.redNo++;
    const state = this.state(record.ref.cid, key);
    state.reducer = reducer;
    // Only the first contribution's target is kept: the others are checked, not converted
    // (a TargetRef per element was a measurable share of a 1,000-element reduction).
    if (target !== "all") {
      if (state.target === undefined) state.target = resolveTarget(target, record.label);
      else if (!(target instanceof Future) && boundTarget(target) === undefined) resolveTarget(target, record.label);
    }
    state.all ||= target === "all";
    const value = reducer === "nop" ? undefined : copy(data, record.label, "contribution");
    state.local.push(reducer === "gather" ? [record.index, value] : value);
    let future: Future<unknown> | undefined;
    if (target === "all") {
      future = new Future();
      const id = `${record.ref.cid}|${key}`;
      const list = this.allWaiters.get(id);
      if (list) list.push(future.id); else this.allWaiters.set(id, [future.id]);
    }
    this.tryComplete(state);
    return future;
  }

  /** One element's reply to a broadcast that asked for values or completion. */
  contributeReply(record: ElementRecord | undefined, key: string, reply: ReplyRef, value: unknown, error: ErrorData | undefined, coll?: LocalCollection): void {
    const cid = record ? record.ref.cid : coll!.ref.cid;
    const state = this.state(cid, key);
    state.reducer = reply.mode === "value" ? "gather" : "nop";
    state.target = { k: "future", fid: reply.fid };
    if (record) {
      if (error) state.error ??= error;
      let v: unknown;
      try {
        v = reply.mode === "value" ? copy(value, record.label, "return value") : undefined;
      } catch (err) {
        state.error ??= errorToData(err, this.rt.self, record.label);
      }
      state.local.push(reply.mode === "value" ? [record.index, v] : undefined);
    }
    this.tryComplete(state);
  }

  /** A child PE's combined share. */
  receivePartial(msg: Extract<Message, { t: "contrib" }>): void {
    const state = this.state(msg.cid, msg.key);
    state.reducer ??= msg.reducer;
    state.target ??= msg.target;
    state.all ||= msg.all === 1;
    state.children.push(msg.r ? { ...msg.part, v: decode(msg.part.v) } : msg.part);
    this.tryComplete(state);
  }

  /** An allreduce result coming down the tree. */
  receiveResult(msg: Extract<Message, { t: "down" }>): void {
    this.spreadDown(msg.cid, msg.key, msg.r ? decode(msg.v) : msg.v, msg.e);
  }

  private state(cid: number, key: Key): ReductionState {
    let byKey = this.states.get(cid);
    if (!byKey) this.states.set(cid, (byKey = new Map()));
    let s = byKey.get(key);
    if (!s) {
      s = { cid, key, reducer: undefined, target: undefined, all: false, local: [], children: [], error: undefined };
      byKey.set(key, s);
    }
    return s;
  }

  private tryComplete(state: ReductionState): void {
    const coll = this.rt.host.collection(state.cid as any);
    if (!coll.created || state.local.length < coll.elements.size) return;
    const pes = this.rt.participants(coll.ref);
    const pos = pes.indexOf(this.rt.self);
    if (state.children.length < childPositions(pos, pes.length).length) return;
    const byKey = this.states.get(state.cid)!;
    byKey.delete(state.key);
    if (byKey.size === 0) this.states.delete(state.cid);
    const part = combine(state);
    if (pos > 0) {
      const enc = encodeValue(part.v, "a reduction's partial result");
      this.rt.send(pes[parentPosition(pos)]!, { t: "contrib", cid: state.cid as any, key: state.key, reducer: state.reducer!, target: state.target, all: state.all ? 1 : undefined, part: { ...part, v: enc.v }, r: enc.r }, enc.transfer);
      return;
    }
    let result = part.v;
    if (state.reducer === "gather") result = (part.v as [Index, unknown][]).sort((a, b) => compareIndex(a[0], b[0])).map((p) => p[1]);
    this.deliver(state, result, part.e);
  }

  private deliver(state: ReductionState, result: unknown, error: ErrorData | undefined): void {
    if (state.all) { this.spreadDown(state.cid, state.key, result, error); return; }
    const target = state.target;
    if (!target) throw new CharmError("a reduction completed without a target");
    if (target.k === "future") {
      if (error) rejectFuture(target.fid, error);
      else sendToFuture(target.fid, result);
    } else if (error) this.rt.reportUnhandled(error);
    else callTarget(target, state.reducer === "nop" ? [] : [result]);
  }

  private spreadDown(cid: number, key: Key, result: unknown, error: ErrorData | undefined): void {
    const coll = this.rt.host.collection(cid as any);
    const pes = this.rt.participants(coll.ref);
    const pos = pes.indexOf(this.rt.self);
    const kids = childPositions(pos, pes.length);
    if (kids.length) {
      const enc = encodeValue(result, "an allreduce result");
      for (const c of kids) this.rt.send(pes[c]!, { t: "down", cid: cid as any, key, v: enc.v, r: enc.r, e: error });
    }
    const id = `${cid}|${key}`;
    const waiters = this.allWaiters.get(id) ?? [];
    this.allWaiters.delete(id);
    for (const fid of waiters) {
      if (error) failLocal(fid, error);
      else settleLocal(fid, waiters.length > 1 ? structuredClone(result) : result);
    }
  }
}

function combine(state: ReductionState): Partial {
  const kids = state.children;
  const n = state.local.length + kids.reduce((sum, p) => sum + p.n, 0);
  const e = state.error ?? kids.find((p) => p.e)?.e;
  if (state.reducer === "nop") return { n, v: undefined, e };
  if (state.reducer === "gather") return { n, v: state.local.concat(...kids.filter((p) => p.n > 0).map((p) => p.v as unknown[])), e };
  const values = state.local.concat(kids.filter((p) => p.n > 0).map((p) => p.v));
  if (values.length === 0 || e) return { n, v: undefined, e };
  try {
    return { n, v: reducerFn(state.reducer!)(values), e };
  } catch (err) {
    return { n, v: undefined, e: errorToData(err, -2, undefined, `reducer ${state.reducer}`) };
  }
}

function copy(value: unknown, who: string, what: string): unknown {
  const t = typeof value;
  if (value === null || (t !== "object" && t !== "function" && t !== "symbol")) return value; // a primitive: nothing to copy
  const enc = encodeValue(value, `${who}'s ${what}`);
  return enc.r ? decode(enc.v) : enc.v;
}

function resolveTarget(target: unknown, who: string): TargetRef {
  if (target instanceof Future) return { k: "future", fid: target.id };
  const bound = boundTarget(target);
  if (bound) return bound;
  throw new CharmError(`${who}: a reduction target must be a Future or a bound entry method (this.thisProxy.method, proxy.at(0).method), got ${typeof target}`);
}
