/** Creating collections from any endpoint: arrays (dense or sparse), groups and singletons. */
import { CharmError } from "../protocol/errors.ts";
import type { Index } from "../protocol/ids.ts";
import type { CollectionKind, CollectionRef } from "../protocol/messages.ts";
import { rt } from "./current.ts";
import { Chare } from "./chare.ts";
import { ArrayMap } from "./array-map.ts";
import { registerArrayMap, registerChareClass } from "./registry.ts";
import { isEntryMethod } from "./entry-methods.ts";
import { encodeFor } from "./invoke.ts";
import { elementRef, makeProxy, proxyRef } from "./proxy.ts";
import { checkIndex } from "./placement.ts";
import { checkBalancerName } from "../lb/strategies.ts";
import { unknownOption, unknownOptionError } from "./option-names.ts";
import { getHeapStatistics } from "node:v8";

/** A chare class (any constructor whose instances are chares). */
export type ChareCtor = abstract new (...args: any[]) => Chare;
/** The constructor parameters of a chare class. */
export type CtorArgs<C> = C extends abstract new (...args: infer A) => any ? A : never;

/** Options for creating an array. */
export interface ArrayOptions<A extends unknown[] = unknown[]> {
  /** Constructor arguments (each element gets its own copy). */
  args?: A;
  /** Custom placement: an exported ArrayMap subclass. */
  map?: new () => ArrayMap;
  /** Opt into AtSync load balancing: loads are measured, AtSync() and resumeFromSync() work. */
  useAtSync?: boolean;
  /** The strategy for this array ("greedy", "refine", "rotate", "random", "none", or registered); default: the runtime's. */
  balancer?: string;
}

/** Options for creating a singleton chare. */
export interface ChareOptions {
  /** The PE to create it on (default: round robin from the creating PE). */
  onPe?: number;
  /** Track creation so `charm.awaitCreation(proxy)` works (one extra message). */
  awaitable?: boolean;
}

// The options each call takes: a name added to its interface doesn't compile until it is added here too.
const ARRAY_OPTIONS = Object.keys({ args: 0, map: 0, useAtSync: 0, balancer: 0 } satisfies Record<keyof ArrayOptions, 0>);
const CHARE_OPTIONS = Object.keys({ onPe: 0, awaitable: 0 } satisfies Record<keyof ChareOptions, 0>);
const GROUP_OPTIONS = ["args"];
const SPARSE_OPTIONS = ["ndims", "map"];

function checkClass(cls: unknown): string {
  if (typeof cls !== "function" || !(cls.prototype instanceof Chare)) {
    throw new CharmError(`expected a chare class (class X extends Chare), got ${typeof cls === "function" ? `class ${cls.name}, which does not extend Chare` : typeof cls}`);
  }
  const name = registerChareClass(cls as ChareCtor);
  // `await` takes anything with a `then` method for a promise, so proxies never expose one: an
  // entry method of that name could never be called (a call failed with "reading 'ret' of undefined").
  if (isEntryMethod(cls as ChareCtor, "then")) {
    throw new CharmError(`${name} has a method named "then", which a proxy can't offer (await would take the proxy for a promise): rename it to call it as an entry method`);
  }
  return name;
}

function checkDims(dims: number | readonly number[], cls: string): number[] {
  const list = typeof dims === "number" ? [dims] : [...dims];
  if (list.length < 1 || list.length > 6) throw new CharmError(`charm.array(${cls}, dims): arrays have 1 to 6 dimensions, got ${list.length}`);
  for (const d of list) if (!Number.isInteger(d) || d < 1) throw new CharmError(`charm.array(${cls}, dims): each dimension must be a positive integer, got [${list.join(", ")}]`);
  return list;
}

// What an idle element takes at least on its PE (its record, chare and table entry; the runtime
// bench measures ~236 B), before any field of its own.
const MIN_ELEMENT_BYTES = 200;

/**
 * Refuses an array that can't fit: its elements' share of the fullest PE, at MIN_ELEMENT_BYTES
 * each, past a PE's heap (this thread's limit: PEs start with the same one unless peMaxHeapMb
 * says less). Without it, `charm.array(X, 2 ** 31)` was accepted, and the PEs ran out of memory
 * building it, about a minute later.
 */
function checkArraySize(dims: number[], numPes: number, cls: string): void {
  const total = dims.reduce((a, b) => a * b, 1);
  const perPe = Math.ceil(total / numPes);
  const limit = getHeapStatistics().heap_size_limit;
  if (perPe * MIN_ELEMENT_BYTES <= limit) return;
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  throw new CharmError(`charm.array(${cls}, [${dims.join(", ")}]): ${total.toLocaleString("en")} elements put ${perPe.toLocaleString("en")} on each of the ${numPes} PEs, which would need at least ${gib(perPe * MIN_ELEMENT_BYTES)} there (${MIN_ELEMENT_BYTES} B or more an element, before its fields), more than a PE's heap (${gib(limit)}): create fewer elements, or run on more PEs`);
}

/** Sends the creation of a collection to the PEs that will hold it; returns its reference. */
function launch(ref: CollectionRef, args: readonly unknown[], awaitable: boolean, idx?: Index): CollectionRef {
  const runtime = rt();
  const enc = encodeFor(ref, "constructor", args);
  const pes = idx ? [runtime.locate(ref, idx)] : runtime.participants(ref);
  // A dead PE would never build its share (nor say it can't): refused at once, as calls to it are.
  for (const pe of pes) runtime.failures.check(pe, `creating ${ref.cls} (${ref.kind === "single" ? "a chare" : ref.kind})`);
  if (awaitable) runtime.creations.expect(ref, pes);
  for (const pe of pes) runtime.send(pe, { t: "create", ref, a: enc.a, r: enc.r, idx, ack: awaitable ? runtime.self : undefined });
  return ref;
}

function mapName(map: (new () => ArrayMap) | undefined): string | undefined {
  if (map === undefined) return undefined;
  if (typeof map !== "function" || !(map.prototype instanceof ArrayMap)) throw new CharmError("the map option must be a class extending ArrayMap (exported from the program's module)");
  return registerArrayMap(map as any);
}

/** Creates a dense N-D array (1-D to 6-D). */
export function createArray(cls: ChareCtor, dims: number | readonly number[], options: ArrayOptions = {}): any {
  const name = checkClass(cls);
  const unknown = unknownOption(options, ARRAY_OPTIONS);
  if (unknown !== undefined) throw unknownOptionError(unknown, ARRAY_OPTIONS, `charm.array(${name}, dims, options) takes`);
  const runtime = rt();
  const checked = checkDims(dims, name);
  checkArraySize(checked, runtime.numPes, name);
  const ref: CollectionRef = { cid: runtime.newCollectionId(), cls: name, kind: "array", dims: checked, map: mapName(options.map) };
  if (options.balancer !== undefined && !options.useAtSync) throw new CharmError(`charm.array(${name}, dims, { balancer }): a balancer needs useAtSync: true`);
  if (options.useAtSync) ref.lb = checkBalancerName(options.balancer ?? runtime.defaultBalancer);
  return makeProxy(launch(ref, options.args ?? [], true));
}

/** Creates a group: one element on every PE, indexed by PE number. */
export function createGroup(cls: ChareCtor, options: { args?: unknown[] } = {}): any {
  const name = checkClass(cls);
  const unknown = unknownOption(options, GROUP_OPTIONS);
  if (unknown !== undefined) throw unknownOptionError(unknown, GROUP_OPTIONS, `charm.group(${name}, options) takes`);
  const ref: CollectionRef = { cid: rt().newCollectionId(), cls: name, kind: "group" };
  return makeProxy(launch(ref, options.args ?? [], true));
}

/** Creates one chare on one PE; returns its proxy. */
export function createSingleton(cls: ChareCtor, args: readonly unknown[] = [], options: ChareOptions = {}): any {
  const name = checkClass(cls);
  const runtime = rt();
  if (!Array.isArray(args)) throw new CharmError(`charm.chare(${name}, args): args must be an array of constructor arguments`);
  const unknown = unknownOption(options, CHARE_OPTIONS);
  if (unknown !== undefined) throw unknownOptionError(unknown, CHARE_OPTIONS, `charm.chare(${name}, args, options) takes`);
  const pe = options.onPe ?? runtime.nextSingletonPe();
  if (!Number.isInteger(pe) || pe < 0 || pe >= runtime.numPes) throw new CharmError(`charm.chare(${name}, args, { onPe: ${pe} }): onPe must be a PE number in 0…${runtime.numPes - 1}`);
  const ref: CollectionRef = { cid: runtime.newCollectionId(), cls: name, kind: "single", pe };
  launch(ref, args, options.awaitable ?? false, [0]);
  return makeProxy(elementRef(ref, [0]));
}

/** Creates an empty sparse array; add elements with `charm.insert`. */
export function createSparseArray(cls: ChareCtor, options: { ndims?: number; map?: new () => ArrayMap } = {}): any {
  const name = checkClass(cls);
  const unknown = unknownOption(options, SPARSE_OPTIONS);
  if (unknown !== undefined) throw unknownOptionError(unknown, SPARSE_OPTIONS, `charm.sparseArray(${name}, options) takes`);
  const ndims = options.ndims ?? 1;
  if (!Number.isInteger(ndims) || ndims < 1 || ndims > 6) throw new CharmError(`charm.sparseArray(${name}, { ndims }): ndims must be 1 to 6`);
  const kind: CollectionKind = "sparse";
  const ref: CollectionRef = { cid: rt().newCollectionId(), cls: name, kind, dims: new Array(ndims).fill(0), map: mapName(options.map) };
  return makeProxy(ref);
}

/** Inserts one element into a sparse array at `index`. */
export function insertElement(proxy: unknown, index: number | readonly number[], args: readonly unknown[] = []): void {
  const ref = proxyRef(proxy);
  if (!ref || ref.kind !== "sparse" || ref.idx) throw new CharmError("charm.insert(proxy, index, args): proxy must be a sparse array's proxy (from charm.sparseArray)");
  const idx = typeof index === "number" ? [index] : [...index];
  checkIndex(ref, idx, ref.cls);
  launch(ref, args, false, idx);
}

/** Resolves once the collections behind these proxies exist on every PE that holds them. */
export async function awaitCreation(...proxies: unknown[]): Promise<void> {
  const runtime = rt();
  await Promise.all(proxies.map((p) => {
    const ref = proxyRef(p);
    if (!ref) throw new CharmError("charm.awaitCreation(...proxies) takes proxies returned by charm.array/group/chare");
    const done = runtime.creations.whenCreated(ref.cid);
    if (!done) throw new CharmError(`can't await the creation of ${ref.cls}: ${ref.kind === "single" ? "create it with charm.chare(cls, args, { awaitable: true })" : "it was created on another PE; await it where it was created"}`);
    return done;
  }));
}
