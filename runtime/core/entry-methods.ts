/** What counts as an entry method: a method of the chare's class chain below Chare itself. */
import type { ChareClass } from "./registry.ts";

let chareBase: object | undefined;
/** Tells this module where the chain stops (set by chare.ts, which would import us otherwise). */
export function setChareBase(proto: object): void {
  chareBase = proto;
}

const cache = new WeakMap<object, Set<string>>();

function methodsOf(cls: ChareClass): Set<string> {
  const proto = cls.prototype as object;
  let names = cache.get(proto);
  if (names) return names;
  names = new Set();
  for (let p: object | null = proto; p && p !== chareBase && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const key of Object.getOwnPropertyNames(p)) {
      if (key === "constructor") continue;
      const desc = Object.getOwnPropertyDescriptor(p, key);
      if (desc && typeof desc.value === "function") names.add(key);
    }
  }
  cache.set(proto, names);
  return names;
}

/** Whether `name` is an entry method of `cls`. */
export function isEntryMethod(cls: ChareClass, name: string): boolean {
  return methodsOf(cls).has(name);
}

/** The entry methods of `cls`, sorted, for error messages and displays. */
export function entryMethodNames(cls: ChareClass): string[] {
  return [...methodsOf(cls)].sort();
}

/** Forgets cached method lists (a class was redefined in place). */
export function forgetMethods(cls: ChareClass): void {
  cache.delete(cls.prototype as object);
}
