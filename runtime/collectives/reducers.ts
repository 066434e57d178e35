/**
 * Reducers: pure functions registered by name, applied to a list of contributions. Built-ins
 * work on numbers, booleans, arrays and typed arrays (element-wise). Custom reducers must be
 * associative: they combine per PE first, then up the spanning tree.
 */
import { CharmError } from "../protocol/errors.ts";

/** A reducer's registered name ("sum", "max", … or a custom one). */
export type ReducerName = string;
/** A reducer: combines a non-empty list of contributions into one. */
export type ReducerFn = (values: any[]) => unknown;

const registry = new Map<string, ReducerFn>();

type Scalar = number | bigint | boolean;

// What the arithmetic reducers combine, one by one: a string would be concatenated ("0str2"), and
// undefined or an object would give NaN or "[object Object]" instead of an error.
const SCALAR: Record<string, boolean> = { number: true, bigint: true, boolean: true };

function elementwise(op: (a: any, b: any) => any, name: string, checked = false): ReducerFn {
  const pair = (a: any, b: any): any => {
    if (ArrayBuffer.isView(a)) {
      const x = a as unknown as ArrayLike<Scalar> & { length: number; constructor: any };
      const y = b as ArrayLike<Scalar>;
      if (y.length !== x.length) throw new CharmError(`reduction over typed arrays of different lengths (${x.length} and ${y.length})`);
      const out = new x.constructor(x.length);
      for (let i = 0; i < x.length; i++) out[i] = op(x[i], y[i]);
      return out;
    }
    if (Array.isArray(a)) {
      if (!Array.isArray(b) || b.length !== a.length) throw new CharmError(`reduction over arrays of different lengths (${a.length} and ${Array.isArray(b) ? b.length : "not an array"})`);
      return a.map((v, i) => pair(v, b[i]));
    }
    if (checked && (typeof a !== typeof b || !SCALAR[typeof a])) {
      throw new CharmError(`Reducer.${name} combines numbers, bigints or booleans (or arrays and typed arrays of them), one kind at a time; it got ${kindOf(a)} and ${kindOf(b)}`);
    }
    return op(a, b);
  };
  return (values) => values.reduce((acc, v) => pair(acc, v));
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  const t = typeof v;
  return t === "undefined" ? "undefined" : `a${/^[aeiou]/.test(t) ? "n" : ""} ${t}${t === "string" ? ` (${JSON.stringify(v).slice(0, 40)})` : ""}`;
}

registry.set("sum", elementwise((a, b) => a + b, "sum", true));
registry.set("product", elementwise((a, b) => a * b, "product", true));
registry.set("max", elementwise((a, b) => (a >= b ? a : b), "max", true));
registry.set("min", elementwise((a, b) => (a <= b ? a : b), "min", true));
registry.set("logical_and", elementwise((a, b) => Boolean(a) && Boolean(b), "logicalAnd"));
registry.set("logical_or", elementwise((a, b) => Boolean(a) || Boolean(b), "logicalOr"));
registry.set("logical_xor", elementwise((a, b) => Boolean(a) !== Boolean(b), "logicalXor"));

/** The built-in reducers by name, and `register` for custom ones (call it on every PE: at module top level). */
export const Reducer = {
  sum: "sum",
  product: "product",
  max: "max",
  min: "min",
  logicalAnd: "logical_and",
  logicalOr: "logical_or",
  logicalXor: "logical_xor",
  /** Collects every contribution, ordered by the contributing element's index. */
  gather: "gather",
  /** No data: the reduction is a barrier whose target is called with no value. */
  nop: "nop",
  /** Registers a custom reducer under `name` and returns the name to pass to contribute. */
  register(name: string, fn: ReducerFn): ReducerName {
    if (name === "gather" || name === "nop") throw new CharmError(`"${name}" is a built-in reducer; choose another name`);
    registry.set(name, fn);
    return name;
  },
} as const;

/** How a reducer is spelt in a program: `Reducer.logicalAnd` for "logical_and", `"mine"` for a registered one. */
export function reducerLabel(name: ReducerName): string {
  const key = Object.keys(Reducer).find((k) => Reducer[k as keyof typeof Reducer] === name);
  return key ? `Reducer.${key}` : `"${name}"`;
}

/** The function behind a reducer name, or a CharmError naming the known ones. */
export function reducerFn(name: ReducerName): ReducerFn {
  const fn = registry.get(name);
  if (!fn) throw new CharmError(`unknown reducer "${name}"; known: ${[...registry.keys(), "gather", "nop"].join(", ")}. Register custom ones with Reducer.register(name, fn) in the module every PE loads.`);
  return fn;
}

/** Whether a reducer name is known here (gather and nop included). */
export function isReducer(name: string): boolean {
  return name === "gather" || name === "nop" || registry.has(name);
}

/** One reduction, two reducers: the contributions can't be combined (which one was meant?). */
export function mixedReducers(first: ReducerName, then: ReducerName, who?: string): CharmError {
  const by = who ? `${who} contributed` : "contributions came";
  return new CharmError(`one reduction, two reducers: ${by} with ${reducerLabel(then)} where others used ${reducerLabel(first)}; every contribution to a reduction must use the same reducer`);
}
