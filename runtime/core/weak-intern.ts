/**
 * A table that hands out the same object for the same key while anyone holds it, and forgets it
 * once it is garbage: what makes proxies `===`-comparable without keeping every proxy alive.
 *
 * One WeakRef per entry and no FinalizationRegistry: registering every proxy for finalization
 * was a large share of a chare's creation (Fib makes three proxies per chare) and of the GC's
 * work. Entries of collected objects are swept instead when the table has doubled since the
 * last sweep, which keeps it within twice the live entries at a constant cost per insertion.
 * Keys are numbers where they can be (a collection's id) so no string is built per lookup.
 */
export class WeakInterner {
  private readonly table = new Map<number | string, WeakRef<object>>();
  private sweepAt = 1024;
  private generation = -1;

  /**
   * The live object for `key` in `generation`, if any. A new generation (a new runtime:
   * collection ids start over) forgets every earlier key.
   */
  find(generation: number, key: number | string): object | undefined {
    if (generation !== this.generation) {
      this.table.clear();
      this.generation = generation;
    }
    return this.table.get(key)?.deref();
  }

  /** Keeps `made` (weakly) under `key`, of the generation `find` was last asked about. */
  add(key: number | string, made: object): void {
    this.table.set(key, new WeakRef(made));
    if (this.table.size >= this.sweepAt) this.sweep();
  }

  /** `find`, else what `make` builds, then kept (for callers that aren't hot). */
  get<T extends object>(generation: number, key: number | string, make: () => T): T {
    const existing = this.find(generation, key);
    if (existing) return existing as T;
    const made = make();
    this.add(key, made);
    return made;
  }

  private sweep(): void {
    // forEach, not for…of: destructuring each entry allocated an array per live proxy per sweep.
    this.table.forEach((ref, key, table) => { if (ref.deref() === undefined) table.delete(key); });
    this.sweepAt = Math.max(1024, 2 * this.table.size);
  }
}
