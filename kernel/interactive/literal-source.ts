/**
 * A driver value written back as JavaScript source, so the PEs can evaluate an equal value: only
 * constants of literals — numbers (NaN, ±Infinity and -0 too), bigints, strings, booleans, null,
 * undefined, and arrays and plain objects of those. Anything else (a Map, a function, an instance
 * of a class, an object that contains itself or has getters) has no such source, and the answer
 * says what it is, for the cell's notice.
 */

/** The source of a constant of literals, or what the value is instead. */
export type LiteralSource = { source: string } | { why: string };

/** Source longer than this isn't sent on every assignment: such a value should be an argument. */
export const MAX_SOURCE_CHARS = 100_000;

class NotLiteral extends Error {}

/** `value` as source that evaluates to an equal constant, or why it has none. */
export function literalSource(value: unknown, maxChars = MAX_SOURCE_CHARS): LiteralSource {
  const tooLong = `a value over ${maxChars.toLocaleString("en-US")} characters long as source`;
  let length = 0;
  // Counted as the pieces are made (each with its separator), so a huge array stops early.
  const counted = (text: string): string => {
    length += text.length + 2;
    if (length > maxChars) throw new NotLiteral(tooLong);
    return text;
  };
  const holding = new Set<object>(); // the objects being written: one met again contains itself
  const write = (v: unknown, path: string): string => {
    switch (typeof v) {
      case "undefined": return counted("void 0");
      case "boolean": return counted(String(v));
      case "bigint": return counted(`${v}n`);
      case "string": return counted(JSON.stringify(v));
      case "number": return counted(Object.is(v, -0) ? "-0" : String(v)); // NaN, Infinity, -Infinity and 1e+21 are source too
      case "function": return fail(/^class\b/.test(Function.prototype.toString.call(v)) ? "a class" : "a function", path);
      case "symbol": return fail("a symbol", path);
    }
    if (v === null) return counted("null");
    const object = v as object;
    if (holding.has(object)) return fail("an object that contains itself", path);
    holding.add(object);
    try {
      return Array.isArray(object) ? arraySource(object, path) : objectSource(object, path);
    } finally {
      holding.delete(object);
    }
  };
  const arraySource = (array: unknown[], path: string): string => {
    if (Object.getPrototypeOf(array) !== Array.prototype) return fail(kind(array), path);
    // Each element takes at least a character and its separator: a long array stops here, before its keys are listed.
    if (length + array.length * 2 > maxChars) throw new NotLiteral(tooLong);
    // Indices and `length` only: anything else would be lost.
    const keys = Reflect.ownKeys(array);
    if (keys.some((k) => k !== "length" && !(typeof k === "string" && String(Number(k) >>> 0) === k))) return fail("an array with other properties than its elements", path);
    const items: string[] = [];
    for (let i = 0; i < array.length; i++) items.push(i in array ? write(array[i], `${path}[${i}]`) : "");
    // A hole at the end needs its own comma: `[1, ,]` has length 2.
    return `[${items.join(", ")}${array.length > 0 && !(array.length - 1 in array) ? "," : ""}]`;
  };
  const objectSource = (object: object, path: string): string => {
    if (Object.getPrototypeOf(object) !== Object.prototype) return fail(kind(object), path);
    const entries: string[] = [];
    for (const key of Reflect.ownKeys(object)) {
      if (typeof key === "symbol") return fail("an object with symbol keys", path);
      const descriptor = Object.getOwnPropertyDescriptor(object, key)!;
      if (!("value" in descriptor)) return fail(`an object with a getter or setter (${key})`, path);
      if (!descriptor.enumerable) return fail(`an object with a non-enumerable property (${key})`, path);
      // `__proto__: x` in a literal sets the prototype; the computed form makes a property.
      const name = counted(key === "__proto__" ? '["__proto__"]' : JSON.stringify(key));
      entries.push(`${name}: ${write(descriptor.value, `${path}${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`)}`);
    }
    return `{ ${entries.join(", ")} }`;
  };
  try {
    const source = write(value, "");
    return source.length > maxChars ? { why: tooLong } : { source };
  } catch (error) {
    if (error instanceof NotLiteral) return { why: error.message };
    throw error;
  }
}

function fail(what: string, path: string): never {
  throw new NotLiteral(path === "" ? what : `a value holding ${what} at ${path}`);
}

/** What an object is, by its class: "a Map", "an Int32Array", "an object without a prototype". */
function kind(object: object): string {
  const prototype = Object.getPrototypeOf(object) as { constructor?: { name?: unknown } } | null;
  if (prototype === null) return "an object without a prototype";
  const name = typeof prototype.constructor?.name === "string" && prototype.constructor.name !== "" ? prototype.constructor.name : "object";
  return `${/^[AEIOU]/i.test(name) ? "an" : "a"} ${name}`;
}
