/**
 * A table that hands out the same object for the same key while anyone holds it, and forgets it
 * once it is garbage: what makes proxies `===`-comparable without keeping every proxy alive.
 */
export class WeakInterner {
  private readonly table = new Map<string, WeakRef<object>>();
  private readonly collect = new FinalizationRegistry<string>((key) => {
    if (this.table.get(key)?.deref() === undefined) this.table.delete(key);
  });

  /** The live object for `key`, or the one `make` builds (then kept weakly). */
  get<T extends object>(key: string, make: () => T): T {
    const existing = this.table.get(key)?.deref();
    if (existing) return existing as T;
    const made = make();
    this.table.set(key, new WeakRef(made));
    this.collect.register(made, key);
    return made;
  }
}
