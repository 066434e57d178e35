/**
 * Built-ins whose state lives in the engine's internal slots, not in fields: copying their own
 * fields copies nothing, and what arrives is an empty shell whose methods throw ("called on
 * incompatible receiver"). They can't cross to another PE at all, registered or not.
 */

// Each by its prototype (a generator's has no global constructor), its name, and what to send
// instead, said in the error since registering it can't help. Missing ones (older engines) are skipped.
const UNSENDABLE: ReadonlyArray<readonly [object | undefined, string, string]> = [
  [globalThis.WeakMap?.prototype, "WeakMap", "send a Map of the entries the receiver needs, or plain data"],
  [globalThis.WeakSet?.prototype, "WeakSet", "send a Set or an array of the items the receiver needs, or plain data"],
  [globalThis.WeakRef?.prototype, "WeakRef", "send the object it refers to (deref()), or plain data"],
  [globalThis.FinalizationRegistry?.prototype, "FinalizationRegistry", "make one on the receiving PE itself"],
  [globalThis.Promise?.prototype, "Promise", "await it and send its value, or send a charm4ts Future"],
  [Object.getPrototypeOf(function* () {}).prototype, "generator", "send the values it yields, as an array"],
  [Object.getPrototypeOf(async function* () {}).prototype, "async generator", "await the values it yields and send them, as an array"],
];

/** For an object (or, with `isClass`, a class) that is or extends such a built-in: its name and what to send instead. */
export function unsendableBuiltin(value: object, isClass = false): { name: string; instead: string } | undefined {
  const own = isClass ? (value as { prototype?: unknown }).prototype : value;
  if (typeof own !== "object" || own === null) return undefined;
  for (const [proto, name, instead] of UNSENDABLE) {
    if (proto !== undefined && (own === proto || Object.prototype.isPrototypeOf.call(proto, own))) return { name, instead };
  }
  return undefined;
}

/** The error's wording: `what` says which value or class is such a built-in; then why it can't be sent, and what to do instead. */
export function unsendableMessage(what: string, instead: string): string {
  return `${what}, whose contents live inside the JavaScript engine and can't be copied: it can't be sent to another PE at all, and charm.serializable can't change that. Instead, ${instead}.`;
}
