// History search's glob matcher: IPython's semantics, and linear behaviour on patterns that make a
// backtracking RegExp run for ever.
import { describe, expect, it } from "vitest";
import { globMatch } from "../../kernel/handlers/glob.ts";

describe("globMatch", () => {
  it.each([
    // `*` any run, `?` one character, the rest literally, over the whole text.
    ["a.b*", "a.bcd", true],
    ["a.b*", "axbcd", false],
    ["1?2", "1+2", true],
    ["1?2", "12", false],
    ["*x*", "a x b", true],
    ["x", "xx", false],
    ["*", "", true],
    ["", "", true],
    ["", "a", false],
    ["?", "", false],
    ["**a**", "bab", true],
    // RegExp syntax means nothing here.
    ["(a|b)+[c]$", "(a|b)+[c]$", true],
    ["a+", "aa", false],
    // Wildcards span lines and count characters, not UTF-16 units.
    ["for*}", "for (;;) {\n  x++;\n}", true],
    ["a?b", "a😀b", true],
    ["a??b", "a😀b", false],
    // A star backs up only as far as it must.
    ["*ab*ab", "xabyabab", true],
    ["*ab*abc", "xabyabab", false],
    ["a*b?c", "aXbYbZc", true],
    ["a*b?c", "aXbYbZd", false],
  ] as const)("%j ~ %j is %s", (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });

  it("agrees with an anchored RegExp on small cases", () => {
    const alphabet = ["a", "b", "*", "?"];
    const words = (n: number, letters: string[]): string[] =>
      n === 0 ? [""] : words(n - 1, letters).flatMap((w) => letters.map((c) => w + c));
    const patterns = [0, 1, 2, 3, 4].flatMap((n) => words(n, alphabet));
    const texts = [0, 1, 2, 3, 4, 5].flatMap((n) => words(n, ["a", "b"]));
    const disagreements = patterns.flatMap((p) => {
      const re = new RegExp(`^${p.replaceAll("*", ".*").replaceAll("?", ".")}$`);
      return texts.filter((t) => globMatch(p, t) !== re.test(t)).map((t) => `${p} ~ ${t}`);
    });
    expect(disagreements).toEqual([]);
  });

  it("finishes on the pattern that hangs a backtracking RegExp", () => {
    const pattern = `${"*a".repeat(18)}*b`;
    // Twenty thousand "a"s and no "b": a RegExp `^.*a.*a….*b$` would try ~n^18 splits.
    expect(globMatch(pattern, "a".repeat(20_000))).toBe(false);
    expect(globMatch(pattern, `${"a".repeat(20_000)}b`)).toBe(true);
  });
});
