/** The caller's side of an entry-method call: encode, address, and optionally get a Future. */
import { CharmError } from "../protocol/errors.ts";
import { encodeArgs, type EncodedArgs } from "../protocol/codec.ts";
import type { CollectionRef, ProxyRef, ReplyRef } from "../protocol/messages.ts";
import { rt } from "./current.ts";
import { Future } from "./future.ts";
import { ANY_PE } from "./failure.ts";
import { proxyLabel } from "./proxy.ts";
import type { Runtime } from "./runtime.ts";
import { counterOf, DRIVER, homeOf } from "../protocol/ids.ts";

/** Sends one entry-method call through a proxy; returns a Future when `mode` asks for one. */
export function callEntry(ref: ProxyRef, method: string, args: unknown[], mode: ReplyRef["mode"] | undefined): Future<any> | undefined {
  const runtime = rt();
  checkCurrentRun(runtime, ref, `.${method}()`);
  // Before doneInserting nobody knows how many elements of a sparse array must answer: say so
  // instead of hanging (checked on the driver, which runs the census and knows it exactly).
  if (mode && !ref.idx && ref.kind === "sparse" && runtime.isDriver && !runtime.census.totals.has(ref.cid)) {
    throw new CharmError(`${ref.cls}.${method}.${mode === "value" ? "ret" : "awaitable"}(): a broadcast that waits for replies from a sparse array needs charm.doneInserting(proxy) first`);
  }
  const enc = encodeFor(ref, method, args);
  let future: Future<any> | undefined;
  let reply: ReplyRef | undefined;
  if (mode) {
    future = new Future();
    reply = { fid: future.id, mode };
    runtime.futures.get(future.id)!.label = `${ref.idx ? `${ref.cls}[${ref.idx.join(",")}]` : ref.cls}.${method}`;
  }
  if (ref.idx) {
    const pe = runtime.locate(ref, ref.idx);
    runtime.failures.check(pe, `${ref.cls}[${ref.idx.join(",")}].${method}()`);
    if (runtime.failures.replacements.length) runtime.failures.checkLost(ref, ref.idx, pe, `${ref.cls}[${ref.idx.join(",")}].${method}()`);
    if (future) runtime.futures.get(future.id)!.on = pe;
    runtime.send(pe, { t: "invoke", to: ref, m: method, a: enc.a, r: enc.r, reply }, enc.transfer);
  } else {
    runtime.failures.check(ref.kind === "single" ? ref.pe! : ANY_PE, `the broadcast ${ref.cls}.${method}()`);
    if (runtime.failures.replacements.length) runtime.failures.checkLost(ref, undefined, ANY_PE, `the broadcast ${ref.cls}.${method}()`);
    if (future) runtime.futures.get(future.id)!.on = ref.kind === "single" ? ref.pe! : ANY_PE;
    const to: CollectionRef = { cid: ref.cid, cls: ref.cls, kind: ref.kind, dims: ref.dims, map: ref.map, pe: ref.pe, lb: ref.lb };
    // A sparse array left empty: nobody would ever answer, so answer here.
    if (future && to.kind === "sparse" && runtime.census.totals.get(to.cid) === 0) future.send(mode === "value" ? [] : undefined);
    else runtime.broadcast(to, { t: "bcast", to, m: method, a: enc.a, r: enc.r, reply, b: runtime.newBroadcastId() });
  }
  return future;
}

/**
 * A proxy the driver made before the runtime restarted names chares that are gone: say so (at a
 * call through it, `use` saying what was done with it) instead of waiting forever.
 */
export function checkCurrentRun(runtime: Runtime, ref: ProxyRef, use: string): void {
  if (!runtime.isDriver || homeOf(ref.cid) !== DRIVER || counterOf(ref.cid) > runtime.firstCounter) return;
  const what = ref.kind === "single" ? "chare" : ref.kind === "group" ? "group" : "array";
  throw new CharmError(`${proxyLabel(ref)}${use}: this proxy is from before the runtime restarted (charm.restart), and its chares are gone. Create the ${what} again.`);
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
