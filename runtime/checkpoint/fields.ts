/**
 * A chare class's shape: the fields its source declares (class fields, and `this.x =` anywhere
 * in its body), read from the class's text and its base classes' up to Chare. A checkpoint keeps
 * each class's shape; restoring into a class whose shape differs says which fields changed,
 * since its constructor doesn't run again to fill a new field.
 */
import { Chare } from "../core/chare.ts";
import { CharmError } from "../protocol/errors.ts";
import { topLevelMatches } from "../core/class-source.ts";

const cache = new WeakMap<Function, string[]>();

/** The field names `cls` (and its bases below Chare) declares, sorted. */
export function declaredFields(cls: Function): string[] {
  const known = cache.get(cls);
  if (known) return known;
  const names = new Set<string>();
  for (let c: Function | null = cls; c && c !== Chare && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    for (const name of fieldsOf(Function.prototype.toString.call(c))) names.add(name);
  }
  const out = [...names].sort();
  cache.set(cls, out);
  return out;
}

// A class field at the top level of a class body: a name, then `=` (not `=>`, `==`), `;`, a line end or `}`.
const FIELD = /\s*(?!(?:static|get|set|async)\b)#?([A-Za-z_$][\w$]*)[ \t]*(?:=(?![=>])|;|\n|\})/y;

/** Field names in one class's source text (string contents aren't parsed: a brace in one may hide a field). */
function fieldsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/this\.([A-Za-z_$][\w$]*)\s*=(?![=>])/g)) out.push(m[1]!);
  for (const m of source.matchAll(/__publicField\(this,\s*"([^"]+)"/g)) out.push(m[1]!); // fields lowered by a compiler
  out.push(...topLevelMatches(source, FIELD));
  return out;
}

/** Throws a CharmError naming the fields of `cls` that differ from those saved. */
export function checkShape(cls: Function, saved: readonly string[], where: string): void {
  const now = declaredFields(cls);
  const before = new Set(saved);
  const added = now.filter((f) => !before.has(f));
  const removed = saved.filter((f) => !now.includes(f));
  if (added.length === 0 && removed.length === 0) return;
  const parts: string[] = [];
  if (added.length) parts.push(`it now declares ${added.join(", ")}, which the checkpoint doesn't hold`);
  if (removed.length) parts.push(`it no longer declares ${removed.join(", ")}, which the checkpoint holds`);
  throw new CharmError(`class ${cls.name}'s fields changed since the checkpoint in ${where} was made: ${parts.join("; ")}. Restore with the class as it was, then change it`);
}
