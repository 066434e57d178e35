/**
 * The elements of one collection on one PE, by index key. Arrays and groups use a Map; a
 * singleton's collection holds one element, and a Map per singleton (Fib makes one per call)
 * was ~180 B of every chare and a share of its creation, so it gets this two-field table.
 */
import type { ElementRecord } from "./chare.ts";

/** What the runtime uses of a collection's elements: the part of Map it calls. */
export interface ElementTable {
  readonly size: number;
  get(key: string): ElementRecord | undefined;
  has(key: string): boolean;
  set(key: string, record: ElementRecord): unknown;
  delete(key: string): boolean;
  values(): IterableIterator<ElementRecord>;
}

/** A table for a collection that is expected to hold one element (a singleton's). */
export class OneElement implements ElementTable {
  private key: string | undefined;
  private record: ElementRecord | undefined;
  // Never used by the runtime's own singletons (their only index is [0]); it keeps this a
  // faithful table should a second key ever be set.
  private more: Map<string, ElementRecord> | undefined;

  get size(): number {
    return (this.record === undefined ? 0 : 1) + (this.more?.size ?? 0);
  }

  get(key: string): ElementRecord | undefined {
    return key === this.key ? this.record : this.more?.get(key);
  }

  has(key: string): boolean {
    return key === this.key ? this.record !== undefined : this.more?.has(key) ?? false;
  }

  set(key: string, record: ElementRecord): void {
    if (this.record === undefined || key === this.key) {
      this.key = key;
      this.record = record;
    } else (this.more ??= new Map()).set(key, record);
  }

  delete(key: string): boolean {
    if (key !== this.key || this.record === undefined) return this.more?.delete(key) ?? false;
    this.key = this.record = undefined;
    return true;
  }

  values(): IterableIterator<ElementRecord> {
    const all: ElementRecord[] = this.record === undefined ? [] : [this.record];
    if (this.more) all.push(...this.more.values());
    return all.values();
  }
}

/** The table for a collection of this kind: one element for a singleton, a Map otherwise. */
export function elementTable(kind: string | undefined): ElementTable {
  return kind === "single" ? new OneElement() : new Map<string, ElementRecord>();
}
