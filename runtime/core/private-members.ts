/**
 * A chare class's `#private` members (fields, methods, accessors; its bases' too, up to Chare),
 * read from the classes' source text. JavaScript lets no code outside a class read or write
 * them, so they can't be packed: a migrated or restored element (built without its constructor)
 * has none, and the first method that touches one throws "Cannot read private member". Moving
 * or checkpointing such an element is refused instead, naming the member.
 */
import { topLevelMatches } from "./class-source.ts";

const cache = new WeakMap<Function, string[]>();

// An instance member's start at a class body's top level: modifiers, then `#name` (not static: those live on the class).
const MEMBER = /\s*(?:(?:async|get|set|accessor)\s+|\*\s*)*#([A-Za-z_$][\w$]*)/y;

/** The `#private` instance members `cls` and its bases declare below `base`, as `#name`. */
export function privateMembers(cls: Function, base: Function): string[] {
  const known = cache.get(cls);
  if (known) return known;
  const names = new Set<string>();
  for (let c: Function | null = cls; c && c !== base && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    for (const name of membersOf(Function.prototype.toString.call(c))) names.add(`#${name}`);
  }
  const out = [...names];
  cache.set(cls, out);
  return out;
}

/** `#` names declared at the top level of one class's source. */
function membersOf(source: string): string[] {
  return source.includes("#") ? topLevelMatches(source, MEMBER) : [];
}

/** Why an element of `cls` with these `#private` members can't `action` ("migrate", "be saved"). */
export function privateMembersRefusal(label: string, cls: Function, members: string[], action: string): string {
  const list = members.join(", ");
  return `${label} can't ${action}: class ${cls.name} has #private members (${list}), which no code outside the class can copy, so it would arrive without them. ` +
    `Make ${members.length === 1 ? "it a plain member" : "them plain members"} (TypeScript's \`private\` keeps them out of other code's reach at compile time)`;
}
