import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ASSIGNED, applyInserts, findAssignments, insertsRemap, wrapAssignments } from "../../kernel/interactive/assignments.ts";

const parse = (js: string) => ts.createSourceFile("cell.js", js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
/** The watched names each assignment in `js` changes, in source order. */
const assigned = (js: string, watched = ["x", "y", "z"]) => findAssignments(parse(js), new Set(watched)).map((a) => a.names);
/** `js` wrapped, then run with a hook that records each report: the completion value and the reports. */
function runWrapped(js: string, watched: string[]): { value: unknown; reports: Array<[string, unknown]> } {
  const wrapped = applyInserts(js, wrapAssignments(findAssignments(parse(js), new Set(watched))));
  const reports: Array<[string, unknown]> = [];
  const hook = (value: unknown, name: string, read: () => unknown) => { reports.push([name, read()]); return value; };
  // eval: the completion value of the last statement, as a cell shows it.
  const value = new Function(ASSIGNED, `return eval(${JSON.stringify(wrapped)});`)(hook);
  return { value, reports };
}

describe("assignments to names the PEs have, from the syntax tree", () => {
  it("finds every form of assignment, and writes through a property", () => {
    const js = [
      "x = 1; x += 1; x ||= 2; x **= 2; x++; --x;",
      "[x, , ...y] = a; ({ x, b: y, ...z } = o); [x = 1] = a; ({ x = 1 } = o);",
      "x.a.b = 1; x[0]++; delete (x).a;",
      "for (x of xs) {} for (y in o) f();",
    ].join("\n");
    expect(assigned(js)).toEqual([
      ["x"], ["x"], ["x"], ["x"], ["x"], ["x"],
      ["x", "y"], ["x", "y", "z"], ["x"], ["x"],
      ["x"], ["x"], ["x"],
      ["x"], ["y"],
    ]);
  });

  it("ignores declarations, other names and writes it can't pin on a name", () => {
    expect(assigned("let x = 1; const { y } = o; delete x; this.x = 1; f().y = 2; other = 3; x.f(1); x.push(2);")).toEqual([]);
  });

  it("anywhere in the cell: blocks, loops, callbacks, functions, methods", () => {
    const js = "if (a) { while (b) x = 1; } xs.forEach((v) => { y += v; }); function f() { z = 0; } class K { m() { x++; } }";
    expect(assigned(js)).toEqual([["x"], ["y"], ["z"], ["x"]]);
  });

  it("not where a local of the same name shadows it", () => {
    const js = [
      "function f(x, { y }) { x = 1; y = 2; }",
      "{ let x = 0; x++; } for (let y = 0; y < 2; y++) {} for (const z of zs) { z.a = 1; }",
      "try {} catch (x) { x = 1; } const g = function y() { y = 1; }; class z { m() { z = 1; } }",
      "function h() { x = 1; if (a) { var x; } } const k = (z) => z++;",
    ].join("\n");
    expect(assigned(js)).toEqual([]);
  });

  it("the cell's own top-level declarations are the PEs' names, not locals", () => {
    expect(assigned("let x = 1; x = 2; { var y = 0; y++; }")).toEqual([["x"], ["y"]]);
  });

  it("the wrapped cell computes what it did, and reports each name after its assignment", () => {
    const js = "var x = 1, y = 0, o = { n: 1 };\nvar r = [x++, x += 2, ([x, y] = [10, 20])[1], o.n = 5, y = x = 7];\nr";
    expect(runWrapped(js, []).value).toEqual([1, 4, 20, 5, 7]);
    const { value, reports } = runWrapped(js, ["x", "y", "o"]);
    expect(value).toEqual([1, 4, 20, 5, 7]);
    expect(reports).toEqual([["x", 2], ["x", 4], ["x", 10], ["y", 20], ["o", { n: 5 }], ["x", 7], ["y", 7]]);
  });

  it("defaults inside a destructuring target stay defaults (a wrapped one would not parse)", () => {
    const js = "var x, y, o = {}, r = [];\n[x = 1, o.a = 2] = [];\n({ y = x + 1, b: [o.b = 4] = [] } = {});\nfor ([x, y = 5] of [[6]]) r.push(x, y);\n[x, y, o, r]";
    const { value, reports } = runWrapped(js, ["x", "y", "o"]);
    expect(value).toEqual([6, 5, { a: 2, b: 4 }, [6, 5]]);
    expect(reports.map(([name]) => name)).toEqual(["x", "o", "y", "o", "x", "y"]);
  });

  it("a loop head reports at the start of each turn; a statement after a line without a semicolon stays one", () => {
    const { value, reports } = runWrapped("var x = 0, y = [], f = () => 1\nfor (x of [1, 2]) y.push(x)\nx = f()\ny", ["x"]);
    expect(value).toEqual([1, 2]);
    expect(reports).toEqual([["x", 1], ["x", 2], ["x", 1]]);
  });

  it("keeps the cell's lines", () => {
    const js = "x = 1;\nfor (x of xs)\n  y(x);\nz";
    const wrapped = applyInserts(js, wrapAssignments(findAssignments(parse(js), new Set(["x"]))));
    expect(wrapped.split("\n")).toHaveLength(4);
    expect(wrapped.split("\n")[3]).toBe("z");
  });
});

describe("insertsRemap: tracebacks show the cell's own columns", () => {
  it("maps columns after, between and inside inserts on a line back; other lines are untouched", () => {
    const source = "a;\nx = await f(); y = await g();\nz";
    const at = (s: string) => source.indexOf(s);
    const inserts = [
      { at: at("await f"), text: "R((", rank: 0 }, { at: at("; y"), text: "), 'c')", rank: 0 },
      { at: at("await g"), text: "R((", rank: 0 }, { at: at(";\nz"), text: "), 'c')", rank: 0 },
    ];
    const out = applyInserts(source, inserts);
    expect(out).toBe("a;\nx = R((await f()), 'c'); y = R((await g()), 'c');\nz");
    const back = insertsRemap(source, inserts);
    const col = (line: number, text: string, within: string) => within.split("\n")[line - 1]!.indexOf(text) + 1;
    for (const text of ["await f", "; y", "await g"]) expect(back({ line: 2, column: col(2, text, out) })).toEqual({ line: 2, column: col(2, text, source) });
    expect(back({ line: 2, column: col(2, "R((await g", out) + 1 })).toEqual({ line: 2, column: col(2, "await g", source) }); // inside "R((": where it was inserted
    expect(back({ line: 1, column: 2 })).toEqual({ line: 1, column: 2 });
    expect(back({ line: 3, column: 1 })).toEqual({ line: 3, column: 1 });
  });
});
