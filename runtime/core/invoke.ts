/** The caller's side of an entry-method call: encode, address, and optionally get a Future. */
import { CharmError } from "../protocol/errors.ts";
import { encodeArgs, type EncodedArgs } from "../protocol/codec.ts";
import type { CollectionRef, ProxyRef, ReplyRef } from "../protocol/messages.ts";
import { rt } from "./current.ts";
import { Future } from "./future.ts";
import { ANY_PE, type WaitsOn } from "./failure.ts";
import { proxyLabel } from "./proxy-label.ts";
import type { Runtime } from "./runtime.ts";
import { counterOf, DRIVER, homeOf } from "../protocol/ids.ts";

/** Sends one entry-method call through a proxy; returns a Future when `mode` asks for one. */
export function callEntry(ref: ProxyRef, method: string, args: unknown[], mode: ReplyRef["mode"] | undefined): Future<any> | undefined {
  const runtime = rt();
  checkCurrentRun(runtime, ref, method, "()");
  // Before doneInserting nobody knows how many elements of a sparse array must answer: say so
  // instead of hanging (checked on the driver, which runs the census and knows it exactly).
  if (mode && !ref.idx && ref.kind === "sparse" && runtime.isDriver && !runtime.census.totals.has(ref.cid)) {
    throw new CharmError(`${ref.cls}.${method}.${mode === "value" ? "ret" : "awaitable"}(): a broadcast that waits for replies from a sparse array needs charm.doneInserting(proxy) first`);
  }
  const enc = encodeFor(ref, method, args);
  // A call refused at once (its PE is dead, its chare was lost) throws before it makes a future:
  // a future nobody can ever complete would count as a call still running.
  const located = ref.idx ? runtime.locate(ref, ref.idx) : undefined;
  const pe: WaitsOn = located ?? (ref.kind === "single" ? ref.pe! : ANY_PE);
  // The call's name is built only when a PE has died: a string per call was a measurable share of sending.
  if (runtime.failures.dead.size > 0 || runtime.failures.replacements.length > 0) {
    const what = ref.idx ? `${ref.cls}[${ref.idx.join(",")}].${method}()` : `the broadcast ${ref.cls}.${method}()`;
    runtime.failures.check(pe, what);
    if (runtime.failures.replacements.length) runtime.failures.checkLost(ref, ref.idx, pe, what);
  }
  // The label (and the object) only for a call that waits: a plain send builds no string.
  const { future, reply } = mode ? replyTo(runtime, mode, `${ref.idx ? `${ref.cls}[${ref.idx.join(",")}]` : ref.cls}.${method}`, pe) : NO_REPLY;
  if (located !== undefined) {
    runtime.send(located, { t: "invoke", to: ref, m: method, a: enc.a, r: enc.r, reply }, enc.transfer);
  } else {
    const to: CollectionRef = { cid: ref.cid, cls: ref.cls, kind: ref.kind, dims: ref.dims, map: ref.map, pe: ref.pe, lb: ref.lb };
    // A sparse array left empty: nobody would ever answer, so answer here.
    if (future && to.kind === "sparse" && runtime.census.totals.get(to.cid) === 0) future.send(mode === "value" ? [] : undefined);
    else runtime.broadcast(to, { t: "bcast", to, m: method, a: enc.a, r: enc.r, reply, b: runtime.newBroadcastId() });
  }
  return future;
}

/** What a call that waits for its reply needs: no reply without `mode`. */
export interface ReplyTo {
  future?: Future<any>;
  reply?: ReplyRef;
}

const NO_REPLY: ReplyTo = Object.freeze({});

/**
 * The future a call's reply completes, when `mode` asks for one: labelled with the call (what an
 * interrupted cell says it was waiting for) and, given `on`, rejected if that PE dies.
 */
export function replyTo(runtime: Runtime, mode: ReplyRef["mode"] | undefined, label: string, on?: WaitsOn): ReplyTo {
  if (!mode) return NO_REPLY;
  const future = new Future<any>();
  const state = runtime.futures.get(future.id)!;
  state.label = label;
  if (on !== undefined) state.on = on;
  return { future, reply: { fid: future.id, mode } };
}

/**
 * A proxy the driver made before the runtime restarted names chares that are gone: say so (at a
 * call through it of `method`, if any, `use` saying what was done with it) instead of waiting forever.
 */
export function checkCurrentRun(runtime: Runtime, ref: ProxyRef, method: string | undefined, use: string): void {
  if (!runtime.isDriver || homeOf(ref.cid) !== DRIVER || counterOf(ref.cid) > runtime.firstCounter) return;
  const what = ref.kind === "single" ? "chare" : ref.kind === "group" ? "group" : "array";
  const call = `${proxyLabel(ref)}${method === undefined ? "" : `.${method}`}${use}`;
  const by = runtime.restartedBy;
  if (by) throw new CharmError(`${call}: this proxy is from before ${by} restarted the runtime and restored the checkpoint: the restored chares have new proxies. Use those ${by} resolved with (its named values), or the ones in the restored chares' state.`);
  throw new CharmError(`${call}: this proxy is from before the runtime restarted (charm.restart), and its chares are gone. Create the ${what} again.`);
}

/** Encodes arguments, prefixing any error with the call it belongs to. */
export function encodeFor(ref: { cls: string }, method: string, args: readonly unknown[]): EncodedArgs {
  try {
    return encodeArgs(args);
  } catch (err) {
    if (err instanceof CharmError) throw new CharmError(`${ref.cls}.${method}(): ${err.message}`);
    throw err;
  }
}
