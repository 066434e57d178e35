/**
 * Making sections where the call is made: `charm.split` (by a function of the index, or by
 * index lists), `charm.combine` and `proxy.slice`. Members are computed here, then sent once to
 * every endpoint (a "section" message); the section proxy itself stays small.
 */
import { CharmError } from "../protocol/errors.ts";
import { DRIVER, compareIndex, indexKey, type Index, type SectionId } from "../protocol/ids.ts";
import type { CollectionRef, ProxyRef, SectionDef } from "../protocol/messages.ts";
import { rt } from "../core/current.ts";
import { makeProxy, proxyRef, registerSlicer } from "../core/proxy.ts";
import { proxyLabel } from "../core/proxy-label.ts";
import { checkIndex, forEachIndex } from "../core/placement.ts";
import { makeSectionProxy, sectionRef } from "./proxy.ts";
import { sectionLabel } from "./multicast.ts";
import { pythonRange, type SliceRange } from "./slice.ts";

/** How `charm.split` assigns elements to sections: a function of the index, or index lists. */
export type SplitOptions =
  | {
      /** The section number(s) of an element (0…n-1), or -1 for none; evaluated here, over every index. */
      by: (index: Index, collection: any) => number | readonly number[];
      elems?: undefined;
    }
  | {
      /** One list of indices per section (1-D indices may be plain numbers). Sparse arrays need this form. */
      elems: ReadonlyArray<ReadonlyArray<number | Index>>;
      by?: undefined;
    };

/** Members grouped by collection: refs[k]'s member indices are lists[k]. */
interface Members {
  refs: CollectionRef[];
  lists: Index[][];
  /** How errors name the source: "Worker(array 10)" or a section's label. */
  label: string;
  cls: string;
}

/** Splits an array, group or section into `n` sections. */
export function split(proxy: unknown, n: number, options: SplitOptions): any[] {
  const what = `charm.split(${describe(proxy)}, ${n}, …)`;
  if (!Number.isInteger(n) || n < 1) throw new CharmError(`${what}: the number of sections must be a positive integer, got ${n}`);
  if (options === null || typeof options !== "object" || (typeof options.by === "function") === (options.elems !== undefined)) {
    throw new CharmError(`${what}: pass exactly one of { by: (index) => sectionNumber } or { elems: [[indices of section 0], …] }`);
  }
  const sections = options.elems !== undefined ? byLists(proxy, n, options.elems, what) : byFunction(members(proxy, what, "by"), n, options.by!, what);
  return sections.map((s) => define(s));
}

/** One section made of every member of several collections or sections (duplicates once). */
export function combine(proxies: unknown[]): any {
  if (proxies.length === 0) throw new CharmError("charm.combine(...proxies): give at least one array, group or section proxy");
  const refs: CollectionRef[] = [];
  const keys: Array<Map<string, Index>> = [];
  for (const proxy of proxies) {
    const m = members(proxy, `charm.combine(…, ${describe(proxy)}, …)`, "combine");
    m.refs.forEach((ref, k) => {
      let at = refs.findIndex((r) => r.cid === ref.cid);
      if (at < 0) { at = refs.push(ref) - 1; keys.push(new Map()); }
      for (const idx of m.lists[k]!) keys[at]!.set(indexKey(idx), idx);
    });
  }
  const lists = keys.map((k) => [...k.values()]);
  return define({ refs, lists, label: "combination", cls: classesOf(refs) });
}

/** A section of a dense array or group chosen like a Python slice, per dimension. */
export function slice(ref: ProxyRef, ranges: Array<SliceRange | number | null | undefined>): any {
  const label = proxyLabel(ref);
  if (ref.kind !== "array" && ref.kind !== "group") {
    throw new CharmError(`${label}.slice(): only dense arrays and groups can be sliced; make sections of a ${ref.kind === "sparse" ? "sparse array with charm.split(proxy, n, { elems })" : "single chare: none (it has one element)"}`);
  }
  const dims = ref.kind === "group" ? [rt().numPes] : ref.dims!;
  const perDim = ranges.some((r) => Array.isArray(r));
  if (!perDim && dims.length > 1) {
    throw new CharmError(`${label}.slice(): a ${dims.length}-D array takes one range per dimension, e.g. .slice([0, 8, 2], [1, 8, 2]) (a plain number fixes that dimension)`);
  }
  if (perDim && ranges.length !== dims.length) {
    throw new CharmError(`${label}.slice(): ${ranges.length} range${ranges.length === 1 ? "" : "s"} for a ${dims.length}-D ${ref.kind}; give one per dimension`);
  }
  const axes = perDim
    ? ranges.map((r, d) => (Array.isArray(r) ? pythonRange(dims[d]!, r[0], r[1], r[2], label) : fixed(r as number, dims[d]!, d, label)))
    : [pythonRange(dims[0]!, ranges[0] as number | undefined, ranges[1] as number | undefined, ranges[2] as number | undefined, label)];
  const list: Index[] = [];
  const visit = (d: number, prefix: number[]): void => {
    if (d === axes.length) { list.push(prefix); return; }
    for (const i of axes[d]!) visit(d + 1, [...prefix, i]);
  };
  visit(0, []);
  const coll = collectionOf(ref);
  return define({ refs: [coll], lists: [list], label, cls: ref.cls });
}

function fixed(i: number, extent: number, d: number, label: string): number[] {
  const at = i < 0 ? i + extent : i;
  if (!Number.isInteger(i) || at < 0 || at >= extent) throw new CharmError(`${label}.slice(): dimension ${d}'s index ${i} is out of range (extent ${extent})`);
  return [at];
}

/** Sends a new section's members to every endpoint and returns its proxy. */
function define(m: Members): any {
  const runtime = rt();
  // Minted from the collection counter: unique per endpoint; sections have their own namespace.
  const sid = runtime.newCollectionId() as unknown as SectionId;
  const keep = m.lists.map((l) => l.length > 0);
  const refs = m.refs.filter((_, k) => keep[k]);
  const lists = m.lists.filter((_, k) => keep[k]).map((l) => l.slice().sort(compareIndex));
  const def: SectionDef = { sid, cls: refs.length ? classesOf(refs) : m.cls, n: lists.reduce((a, l) => a + l.length, 0), refs, members: lists };
  runtime.sections.define(def);
  for (let pe = 0; pe < runtime.numPes; pe++) if (pe !== runtime.self) runtime.send(pe, { t: "section", def });
  if (!runtime.isDriver) runtime.send(DRIVER, { t: "section", def });
  return makeSectionProxy(def);
}

/** Every member of an array, group or section (not: sparse arrays, singletons, elements). */
function members(proxy: unknown, what: string, use: "by" | "combine"): Members {
  const sec = sectionRef(proxy);
  if (sec) {
    const section = rt().sections.get(sec.sid);
    if (!section) throw new CharmError(`${what}: ${sectionLabel(sec)}'s members have not reached ${rt().isDriver ? "the driver" : `PE ${rt().self}`} yet; use it where it was made, or after a message from there`);
    return { refs: section.refs, lists: section.members.map((l) => l.slice()), label: sectionLabel(sec), cls: sec.cls };
  }
  const ref = collectionRef(proxy, what);
  if (ref.kind === "sparse") {
    throw new CharmError(use === "by"
      ? `${what}: a sparse array's elements are not known where split is called; list them: charm.split(proxy, n, { elems: [[…], …] })`
      : `${what}: a sparse array's elements are not known here; combine sections of it made with charm.split(proxy, n, { elems })`);
  }
  const coll = collectionOf(ref);
  const list: Index[] = [];
  if (ref.kind === "group") for (let pe = 0; pe < rt().numPes; pe++) list.push([pe]);
  else forEachIndex(ref.dims!, (idx) => list.push(idx));
  return { refs: [coll], lists: [list], label: proxyLabel(ref), cls: ref.cls };
}

function byFunction(m: Members, n: number, by: (index: Index, collection: any) => number | readonly number[], what: string): Members[] {
  const out = Array.from({ length: n }, () => m.refs.map(() => [] as Index[]));
  m.refs.forEach((ref, k) => {
    const collection = makeProxy(ref);
    for (const idx of m.lists[k]!) {
      const got = by(idx, collection);
      for (const s of Array.isArray(got) ? got : [got]) {
        if (s === -1) continue;
        if (!Number.isInteger(s) || s < 0 || s >= n) {
          throw new CharmError(`${what}: by([${idx.join(", ")}]) returned ${JSON.stringify(got)}; it must return a section number 0…${n - 1}, -1 for none, or an array of section numbers`);
        }
        out[s]![k]!.push(idx);
      }
    }
  });
  return out.map((lists) => ({ ...m, lists: lists.map(unique) }));
}

function byLists(proxy: unknown, n: number, elems: ReadonlyArray<ReadonlyArray<number | Index>>, what: string): Members[] {
  if (!Array.isArray(elems) || elems.length !== n) throw new CharmError(`${what}: elems must be an array of ${n} index lists (one per section), got ${Array.isArray(elems) ? `${elems.length} lists` : typeof elems}`);
  const sec = sectionRef(proxy);
  const m: Members = sec ? members(proxy, what, "by") : { refs: [collectionOf(collectionRef(proxy, what))], lists: [[]], label: describe(proxy), cls: collectionRef(proxy, what).cls };
  if (m.refs.length !== 1) throw new CharmError(`${what}: ${m.label} spans several collections; split it with { by: (index, collection) => … }`);
  const ref = m.refs[0]!;
  const inSection = sec ? new Set(m.lists[0]!.map(indexKey)) : undefined;
  return elems.map((list, s) => {
    if (!Array.isArray(list)) throw new CharmError(`${what}: elems[${s}] must be an array of indices`);
    const out = list.map((item, i) => {
      const idx: Index = typeof item === "number" ? [item] : item;
      const where = `${what}: elems[${s}][${i}] = ${JSON.stringify(item)}`;
      if (!Array.isArray(idx)) throw new CharmError(`${where} is not an index (a number, or an array of numbers)`);
      try {
        checkIndex(ref, idx, ref.cls);
      } catch (err) {
        throw new CharmError(`${where}: ${(err as Error).message}`);
      }
      if (ref.kind === "group" && idx[0]! >= rt().numPes) throw new CharmError(`${where} is out of range: the group has one element per PE (0…${rt().numPes - 1})`);
      if (inSection && !inSection.has(indexKey(idx))) throw new CharmError(`${where} is not a member of ${m.label}`);
      return idx;
    });
    return { ...m, lists: [unique(out)] };
  });
}

function unique(list: Index[]): Index[] {
  const seen = new Map<string, Index>();
  for (const idx of list) if (!seen.has(indexKey(idx))) seen.set(indexKey(idx), idx);
  return [...seen.values()];
}

function collectionRef(proxy: unknown, what: string): ProxyRef {
  const ref = proxyRef(proxy);
  if (!ref) throw new CharmError(`${what}: expected an array, group or section proxy, got ${proxy === null ? "null" : typeof proxy}`);
  if (ref.kind === "single") throw new CharmError(`${what}: ${proxyLabel(ref)} is a single chare; sections are made of arrays' and groups' elements`);
  if (ref.idx) throw new CharmError(`${what}: ${proxyLabel(ref)} is one element; pass its collection's proxy`);
  return ref;
}

/** The collection part of a proxy reference (no element index). */
function collectionOf(ref: ProxyRef): CollectionRef {
  const { idx: _idx, ...coll } = ref;
  return coll;
}

function classesOf(refs: CollectionRef[]): string {
  return [...new Set(refs.map((r) => r.cls))].join("+");
}

function describe(proxy: unknown): string {
  const sec = sectionRef(proxy);
  if (sec) return sectionLabel(sec);
  const ref = proxyRef(proxy);
  return ref ? proxyLabel(ref) : String(proxy);
}

registerSlicer(slice);
