/**
 * How many bytes a value's data takes, roughly — what profiling reports per entry method as the
 * size of its arguments. Counts payload (8 per number, 2 per string character, a typed array's
 * bytes), not the engine's object headers, and stops descending after a few levels and a few
 * thousand items, so profiling a large message costs little.
 */
const MAX_ITEMS = 4096;

/** Approximate payload bytes of `value`. */
export function payloadBytes(value: unknown): number {
  let budget = MAX_ITEMS;
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number): number => {
    if (budget-- <= 0) return 0;
    switch (typeof v) {
      case "number": return 8;
      case "bigint": return 8;
      case "boolean": return 1;
      case "string": return 2 * v.length;
      case "undefined": return 0;
      case "object": break;
      default: return 0;
    }
    if (v === null || seen.has(v as object)) return 0;
    if (ArrayBuffer.isView(v)) return v.byteLength;
    if (v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) return v.byteLength;
    if (depth > 8) return 0;
    seen.add(v as object);
    let n = 0;
    if (Array.isArray(v)) for (const x of v) n += walk(x, depth + 1);
    else if (v instanceof Map) for (const [k, x] of v) n += walk(k, depth + 1) + walk(x, depth + 1);
    else if (v instanceof Set) for (const x of v) n += walk(x, depth + 1);
    else for (const k of Object.keys(v as object)) n += walk((v as Record<string, unknown>)[k], depth + 1);
    return n;
  };
  return walk(value, 0);
}
