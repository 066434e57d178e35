/** Where elements live: pure placement policies (block map, hashing) and index arithmetic. */
import { CharmError } from "../protocol/errors.ts";
import type { CollectionRef } from "../protocol/messages.ts";
import type { Index } from "../protocol/ids.ts";
import { arrayMap } from "./registry.ts";

/** Row-major linear position of `index` in an array of extent `dims`. */
export function linearize(index: Index, dims: readonly number[]): number {
  let pos = 0;
  for (let d = 0; d < dims.length; d++) pos = pos * dims[d]! + index[d]!;
  return pos;
}

/** Number of elements of a dense array. */
export function sizeOf(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Calls `visit` for every index of a dense array, in row-major order. */
export function forEachIndex(dims: readonly number[], visit: (index: number[]) => void): void {
  const total = sizeOf(dims);
  const index = new Array<number>(dims.length).fill(0);
  for (let n = 0; n < total; n++) {
    visit(index.slice());
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++index[d]! < dims[d]!) break;
      index[d] = 0;
    }
  }
}

/** Default dense placement (Charm++'s block map): contiguous blocks of elements per PE. */
export function blockMap(position: number, total: number, numPes: number): number {
  return Math.floor((position * numPes) / total);
}

/** Default sparse placement: a hash of the index, so any PE computes the same home. */
export function hashMap(index: Index, numPes: number): number {
  let h = 2166136261;
  for (const x of index) { h ^= x | 0; h = Math.imul(h, 16777619); }
  return (h >>> 0) % numPes;
}

/** The PE an element is placed on when created (before any migration). */
export function homePe(ref: CollectionRef, index: Index, numPes: number, self: number): number {
  switch (ref.kind) {
    case "single": return ref.pe!;
    case "group": return index[0]!;
    case "array":
      if (ref.map) return checkedPe(arrayMap(ref.map, self).procNum(index, numPes, ref.dims), ref.map, numPes);
      return blockMap(linearize(index, ref.dims!), sizeOf(ref.dims!), numPes);
    case "sparse":
      if (ref.map) return checkedPe(arrayMap(ref.map, self).procNum(index, numPes, ref.dims), ref.map, numPes);
      return hashMap(index, numPes);
  }
}

function checkedPe(pe: number, map: string, numPes: number): number {
  if (!Number.isInteger(pe) || pe < 0 || pe >= numPes) throw new CharmError(`array map ${map}.procNum returned ${pe}; it must be an integer PE number in 0…${numPes - 1}`);
  return pe;
}

/** Checks an index against a collection's shape; the message names what was expected. */
export function checkIndex(ref: CollectionRef, index: Index, className: string): void {
  const want = ref.kind === "array" ? ref.dims!.length : ref.kind === "sparse" ? ref.dims?.length : 1;
  if (want !== undefined && index.length !== want) {
    throw new CharmError(`${className} is a ${want}-D ${ref.kind === "group" ? "group" : "array"}; index it with ${want} number${want > 1 ? "s" : ""} (.at(${Array.from({ length: want }, (_, i) => "i" + i).join(", ")})), got ${index.length}: [${index.join(", ")}]`);
  }
  for (let d = 0; d < index.length; d++) {
    const i = index[d]!;
    if (!Number.isInteger(i) || i < 0) throw new CharmError(`${className} index [${index.join(", ")}]: dimension ${d} must be a non-negative integer`);
    if (ref.kind === "array" && i >= ref.dims![d]!) throw new CharmError(`${className} index [${index.join(", ")}] is out of range: dimension ${d} has extent ${ref.dims![d]}`);
  }
}
