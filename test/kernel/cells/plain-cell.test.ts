// Plain cells (plain JavaScript that declares, imports and registers nothing) run as written,
// without TypeScript; everything else goes through transpile.ts. The test errs towards "not plain".
import { describe, expect, it } from "vitest";
import { isPlainCell } from "../../../kernel/cells/worker/plain-cell.ts";
import { transpileCell } from "../../../kernel/cells/worker/transpile.ts";

describe("plain cells", () => {
  it.each([
    "charm.numPes()",
    "await charm.restart({ numPes: 4 })",
    "await answer.at(1).echo.ret(7)",
    "console.log('hi'); 1 + 2",
    "x = 3; x * 2",
  ])("%s runs as written", (cell) => {
    expect(isPlainCell(cell)).toBe(true);
    expect(transpileCell(cell, "cell-1.ts")).toEqual({ ok: true, js: `${cell}\n//# sourceURL=cell-1.ts`, plain: true });
  });

  it.each([
    ["a declaration", "const x = 1"],
    ["a class", "class A extends Chare {}"],
    ["a function", "function f() { return 1 }"],
    ["an import", 'import { x } from "./util.ts"'],
    ["a generic call, a comparison in JavaScript", "foo<number>(x)"],
    ["an arrow function (its => is an angle bracket)", "[1, 2].map((x) => x * 2)"],
    ["a non-null assertion", "x!.y"],
    ["a type assertion", "x as any"],
    ["an object literal", "{ a: 1 }"],
    ["a registration that ships to PEs", 'Reducer.register("mymax", f)'],
    ["a serializable class", "charm.serializable(Particle)"],
    ["a top-level return", "return 1"],
    ["a syntax error", "foo("],
    ["an empty cell", "  "],
  ])("%s goes through TypeScript: %s", (_, cell) => {
    expect(isPlainCell(cell)).toBe(false);
  });

  it("a cell naming a value the PEs have goes through TypeScript, which finds its assignments", () => {
    const watched = new Set(["speed"]);
    expect(isPlainCell("speed = 2", watched)).toBe(false);
    expect(isPlainCell("speed++; await cars.go.ret()", watched)).toBe(false);
    expect(transpileCell("speed += 1", "cell-2.ts", watched)).toEqual({ ok: true, js: "speed += 1\n//# sourceURL=cell-2.ts" });
    // Other words, even ones that contain the name, don't.
    expect(isPlainCell("speedy = 2; overspeed++", watched)).toBe(true);
  });
});
