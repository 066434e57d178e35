import { describe, expect, it } from "vitest";
import { literalSource } from "../../kernel/interactive/literal-source.ts";

/** The value the source evaluates to (as a PE evaluates it). */
const evaluate = (source: string): unknown => new Function(`return (${source});`)();
const roundTrip = (value: unknown) => {
  const literal = literalSource(value);
  if (!("source" in literal)) throw new Error(`no source: ${literal.why}`);
  return evaluate(literal.source);
};

describe("a driver value as the source of an equal constant", () => {
  it("writes constants of literals, the awkward numbers and keys too", () => {
    for (const value of [1, -0, NaN, -Infinity, 1e21, 0.1 + 0.2, 12n, "a \"quoted\"\n\u2028 string", true, null, undefined]) {
      expect(Object.is(roundTrip(value), value) || roundTrip(value) === value).toBe(true);
    }
    const nested = { a: [1, "x", { b: null }], "not an identifier": 2, 3: [], "": undefined };
    expect(roundTrip(nested)).toEqual(nested);
    // `__proto__` stays a key, not the prototype.
    const proto = JSON.parse('{"__proto__": 5}');
    const back = roundTrip(proto) as object;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back, "__proto__")?.value).toBe(5);
  });

  it("keeps an array's holes, a last one too", () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3, ,];
    const back = roundTrip(sparse) as unknown[];
    expect(back).toHaveLength(4);
    expect(1 in back).toBe(false);
    expect(3 in back).toBe(false);
    expect(back[2]).toBe(3);
  });

  it("says what a value without a literal form is, and where inside it", () => {
    const why = (value: unknown) => ("why" in literalSource(value) ? (literalSource(value) as { why: string }).why : "has a source");
    expect(why(new Map())).toBe("a Map");
    expect(why(new Int32Array(2))).toBe("an Int32Array");
    expect(why(() => 1)).toBe("a function");
    expect(why(class A {})).toBe("a class");
    expect(why(Symbol("s"))).toBe("a symbol");
    expect(why(Object.create(null))).toBe("an object without a prototype");
    expect(why({ get x() { return 1; } })).toBe("an object with a getter or setter (x)");
    expect(why({ list: [1, { when: new Date(0) }] })).toBe("a value holding a Date at .list[1].when");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(why(cyclic)).toBe("a value holding an object that contains itself at .self");
    expect(why(Object.assign([1], { extra: true }))).toBe("an array with other properties than its elements");
  });

  it("gives up on a value too long to send at every assignment, early", () => {
    expect(literalSource(new Array(10).fill(1), 100)).toHaveProperty("source");
    expect(literalSource(new Array(1e6).fill(123456), 1000)).toEqual({ why: "a value over 1,000 characters long as source" });
    // Shared, not cyclic: written twice.
    const shared = { n: 1 };
    expect(roundTrip([shared, shared])).toEqual([{ n: 1 }, { n: 1 }]);
  });
});
