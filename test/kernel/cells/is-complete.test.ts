import { describe, expect, it } from "vitest";
import { isComplete } from "../../../kernel/cells/is-complete.ts";
import { cellCompleteness } from "../../../kernel/cells/syntax-check.ts";
import { codePointsToUtf16, utf16ToCodePoints } from "../../../kernel/cells/language/positions.ts";

describe("isComplete", () => {
  it.each([
    ["1 + 1", "complete"],
    ["const s = `a ${b} c`", "complete"],
    ["f(]", "invalid"],
    ["[1, 2)", "invalid"],
    ["'unterminated\nnext'", "invalid"],
    ["function f() {", "incomplete"],
    ["const x = [1,", "incomplete"],
    ["const t = `abc ${", "incomplete"],
    ["const t = `abc", "incomplete"],
    ["/* open comment", "incomplete"],
    ["const y = 1 +", "incomplete"],
    ["x++", "complete"],
    ["const s = '}'; // ) ]", "complete"],
    ["", "complete"],
    ["const re = /[(']/; re.test('(')", "complete"],
    ["const half = total / 2 / 3", "complete"],
    ["if (x) { /a}b/.test(s)", "incomplete"],
  ])("%j is %s", (code, status) => {
    expect(isComplete(code).status).toBe(status);
  });

  it("gives an indent only when incomplete", () => {
    expect(isComplete("if (a) {\n  if (b) {")).toEqual({ status: "incomplete", indent: "    " });
    expect(isComplete("1")).toEqual({ status: "complete" });
    expect(isComplete("f(]")).toEqual({ status: "invalid" });
  });
});

describe("code point positions", () => {
  it("converts around non-BMP characters", () => {
    const text = "a😀b";
    expect(codePointsToUtf16(text, 2)).toBe(3);
    expect(utf16ToCodePoints(text, 3)).toBe(2);
    expect(codePointsToUtf16(text, 99)).toBe(4);
  });
});

describe("is_complete through the executor's parser check", () => {
  it.each([
    ["const = 5;", "invalid"],
    ["let x: number = 1 +;", "invalid"],
    ["let typed: number = 1;", "complete"],
    ["const r = await fetchSomething();", "complete"],
    ['import { charm } from "charm4ts";', "complete"],
    ["{ a: 1, b: [2, 3] }", "complete"],
    ["squares?", "complete"],
    ["charm.array??", "complete"],
    ["f(", "incomplete"],
  ])("%j is %s", async (code, status) => {
    expect((await cellCompleteness(code)).status).toBe(status);
  });
});
