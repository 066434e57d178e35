/**
 * Proxies at run time: small, interned values (the same collection or element gives the same
 * object on a thread, so `===` and Map keys work; `charm.sameProxy` compares across threads'
 * copies by id). Property access yields entry-method callers; a caller is also a callback
 * target (`reduce(proxy.at(0).done, …)`).
 */
import { inspect } from "node:util";
import { WeakInterner } from "./weak-intern.ts";
import { CharmError } from "../protocol/errors.ts";
import { indexKey, type Index } from "../protocol/ids.ts";
import type { CollectionRef, ProxyRef, TargetRef } from "../protocol/messages.ts";
import { registerReviver, toWire } from "../protocol/codec.ts";
import { findChareClass } from "./registry.ts";
import { checkIndex } from "./placement.ts";
import { callEntry, checkCurrentRun } from "./invoke.ts";
import { proxyLabel } from "./proxy-label.ts";
import { maybeRt, runtimeGeneration } from "./current.ts";
import { MIME_BUNDLE, proxyBundle } from "./bundles.ts";
import { entryMethodNames, isEntryMethod } from "./entry-methods.ts";

const REF = Symbol("charm4ts.proxyRef");
// Every proxy shares one frozen, empty target: the traps answer everything that matters, and a
// fresh Object.create(null) per proxy (a dictionary-mode object) was a large share of the
// ~2.8 KB each Fib chare kept alive. Frozen, so nothing can be defined through one proxy.
// Node's inspect looks at a Proxy's target, not its traps (a proxy inside an object or an array,
// as in what charm.restore resolves with, showed as `[Object: null prototype] {}`), and calls the
// target's inspect.custom with the proxy as `this`: so the one target asks the proxy for its label.
const TARGET_OBJECT: object = Object.freeze(
  Object.defineProperty(Object.create(null), inspect.custom, {
    value: function (this: any) {
      const ref = this?.[REF] as ProxyRef | undefined;
      return ref ? `Proxy<${proxyLabel(ref)}>` : "Proxy";
    },
  }),
);
/** Where a bound entry method (a caller) keeps its callback target (section callers too). */
export const TARGET = Symbol("charm4ts.target");

const interned = new WeakInterner();

// A collection goes under its id, a singleton's element (its only one) under minus its id (ids
// are positive), other elements under a string. Collection ids restart with each runtime (charm.shutdown then start):
// the generation keeps a proxy from an earlier runtime from being handed out for a new
// collection with the same id.
function keyOf(ref: ProxyRef): number | string {
  if (!ref.idx) return ref.cid;
  if (ref.kind === "single") return -ref.cid;
  return `${ref.cid}:${indexKey(ref.idx)}`;
}

/**
 * The reference to element `idx` of collection `ref`, built field by field: an object spread
 * (`{ ...ref, idx }`) gives every result a hidden class of its own in this V8 (a map and a
 * descriptor array, ~230 B, per proxy Fib makes) and turns every read of a ref's fields megamorphic.
 */
export function elementRef(ref: CollectionRef, idx: Index | undefined): ProxyRef {
  const r: ProxyRef = { cid: ref.cid, cls: ref.cls, kind: ref.kind };
  if (ref.dims !== undefined) r.dims = ref.dims;
  if (ref.map !== undefined) r.map = ref.map;
  if (ref.lb !== undefined) r.lb = ref.lb;
  if (ref.pe !== undefined) r.pe = ref.pe;
  if (idx !== undefined) r.idx = idx;
  return r;
}

/** The proxy for a collection or element reference (interned per thread). */
export function makeProxy(ref: ProxyRef): any {
  const key = keyOf(ref);
  return interned.find(runtimeGeneration(), key) ?? addProxy(key, ref);
}

function addProxy(key: number | string, ref: ProxyRef): object {
  const made = new Proxy(TARGET_OBJECT, new ProxyTraps(ref));
  interned.add(key, made);
  return made;
}

/** The wire reference behind a proxy, or undefined for anything else. */
export function proxyRef(value: unknown): ProxyRef | undefined {
  return value !== null && typeof value === "object" ? (value as any)[REF] : undefined;
}

/** The callback target behind a bound entry method (`proxy.method`), or undefined. */
export function boundTarget(value: unknown): TargetRef | undefined {
  return typeof value === "function" ? (value as any)[TARGET] : undefined;
}

// `proxy.slice(...)` makes a section: sections/split.ts installs how when it loads, so the core
// doesn't import the sections layer above it.
let slicer: (ref: ProxyRef, ranges: unknown[]) => unknown = () => {
  throw new CharmError("proxy.slice(): sections aren't loaded (import charm4ts, not its core modules alone)");
};

/** Installs what `proxy.slice(...)` does (sections/split.ts). */
export function registerSlicer(slice: (ref: ProxyRef, ranges: any[]) => unknown): void {
  slicer = slice;
}

class ProxyTraps implements ProxyHandler<object> {
  // The first method's caller sits in two fields and a Map is made only for a second method:
  // most proxies (a Fib chare's parent) are called through one method or none, and a Map
  // per proxy was ~250 B of every Fib chare.
  private firstName: string | undefined;
  private firstCaller: Function | undefined;
  private callers: Map<string, Function> | undefined;
  constructor(private readonly ref: ProxyRef) {}

  get(_target: object, prop: string | symbol): unknown {
    const ref = this.ref;
    if (typeof prop === "symbol") {
      if (prop === REF) return ref;
      if (prop === toWire) return proxyToWire; // shared: a closure per send was garbage per call
      if (prop === Symbol.toPrimitive) return () => proxyLabel(ref);
      if (prop === inspect.custom) return () => `Proxy<${proxyLabel(ref)}>`;
      if (prop === MIME_BUNDLE) return () => proxyBundle(ref, proxyLabel(ref));
      return undefined;
    }
    if (prop === "then") return undefined; // a proxy is not a promise: `await proxy` gives the proxy
    if (prop === "at") return (...index: number[]) => this.element(index);
    if (prop === "slice" && !ref.idx) return (...ranges: any[]) => slicer(ref, ranges);
    if (prop === "toString") return () => proxyLabel(ref);
    if (prop === "toJSON") return () => ({ proxy: proxyLabel(ref) });
    if (!ref.idx && isIndexLike(prop)) return this.element([Number(prop)]);
    if (prop === this.firstName) return this.firstCaller;
    if (this.firstName === undefined) {
      this.firstName = prop;
      return (this.firstCaller = makeCaller(ref, prop));
    }
    let caller = (this.callers ??= new Map()).get(prop);
    if (!caller) {
      caller = makeCaller(ref, prop);
      this.callers!.set(prop, caller);
    }
    return caller;
  }

  set(): boolean {
    throw new CharmError(`proxies are read-only: to change a chare's state, call one of its entry methods (${proxyLabel(this.ref)})`);
  }

  private element(index: number[]): unknown {
    const ref = this.ref;
    if (ref.idx) {
      const cls = findChareClass(ref.cls);
      // A chare's own method named `at` is hidden behind the proxy's: say so rather than "already an element".
      if (cls && isEntryMethod(cls, "at")) throw new CharmError(`${ref.cls}'s method "at" can't be called through a proxy: proxies keep .at() for picking an element. Rename it to call it as an entry method`);
      throw new CharmError(`${proxyLabel(ref)} is already an element proxy; .at() is for collection proxies`);
    }
    if (ref.kind === "single") throw new CharmError(`${proxyLabel(ref)} is a singleton; call its entry methods directly`);
    checkIndex(ref, index, ref.cls);
    const numPes = maybeRt()?.numPes;
    if (ref.kind === "group" && numPes !== undefined && index[0]! >= numPes) {
      throw new CharmError(`${ref.cls} is a group over ${numPes} PEs; index [${index[0]}] is out of range (0…${numPes - 1})`);
    }
    return makeProxy(elementRef(ref, index.slice()));
  }
}

function isIndexLike(prop: string): boolean {
  const c = prop.charCodeAt(0);
  return c >= 48 && c <= 57 && String(Number(prop)) === prop;
}

function check(ref: ProxyRef, method: string): void {
  const cls = findChareClass(ref.cls);
  if (cls && !isEntryMethod(cls, method)) {
    throw new CharmError(`${ref.cls} has no entry method "${method}"; its entry methods are: ${entryMethodNames(cls).join(", ") || "(none)"}`);
  }
}

function unnamed<F>(fn: F): F {
  return fn;
}

function makeCaller(ref: ProxyRef, method: string): Function {
  // Plain assignments: a caller is made for every proxy a chare touches (Fib makes thousands),
  // and defineProperty on functions is several times slower.
  // unnamed(): a closure bound to a const gets keepNames' defineProperty("name"), which turns
  // it into a dictionary-mode function (~3× slower to make, ~450 B more to keep per caller).
  const send: any = unnamed((...args: unknown[]) => { check(ref, method); callEntry(ref, method, args, undefined); });
  send.ret = (...args: unknown[]) => { check(ref, method); return callEntry(ref, method, args, "value"); };
  send.awaitable = (...args: unknown[]) => { check(ref, method); return callEntry(ref, method, args, "done"); };
  send[TARGET] = { k: "method", proxy: ref, m: method } satisfies TargetRef;
  send[toWire] = methodToWire;
  return send;
}

/** How a proxy travels in a message; the driver refuses one from before a restart (its chares are gone). */
function wireProxy(ref: ProxyRef): { $charm: "proxy" } & ProxyRef {
  const runtime = maybeRt();
  if (runtime) checkCurrentRun(runtime, ref, undefined, " (sent in a message)");
  return { $charm: "proxy", ...ref };
}

/** How a proxy describes itself to the codec (called with the proxy as `this`). */
function proxyToWire(this: object): { $charm: "proxy" } & ProxyRef {
  return wireProxy((this as any)[REF]);
}

/** How a bound entry method travels in a message (shared by all callers: `this` is the caller). */
function methodToWire(this: { [TARGET]: { proxy: ProxyRef; m: string } }): { $charm: "method"; proxy: ProxyRef; m: string } {
  const t = this[TARGET];
  const runtime = maybeRt();
  if (runtime) checkCurrentRun(runtime, t.proxy, t.m, " (sent in a message)");
  return { $charm: "method", proxy: t.proxy, m: t.m };
}

// A bound entry method arrives as the same bound method of this thread's interned proxy.
registerReviver("method", (d: { proxy: ProxyRef; m: string }) => makeProxy(d.proxy)[d.m]);

// A proxy already here is found by the tagged ref as it arrived; only a new one keeps a copy
// without the tag (most refs that arrive name a proxy this thread has: a copy each was garbage).
registerReviver("proxy", (d: ProxyRef & { $charm?: string }) => {
  const key = keyOf(d);
  return interned.find(runtimeGeneration(), key) ?? addProxy(key, elementRef(d, d.idx));
});
