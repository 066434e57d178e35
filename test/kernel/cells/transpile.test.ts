import { describe, expect, it } from "vitest";
import { transpileCell } from "../../../kernel/cells/worker/transpile.ts";

const js = (code: string) => {
  const result = transpileCell(code, "cell-1.ts");
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result;
};

describe("transpileCell", () => {
  it("erases types in place: every remaining character keeps its line and column", () => {
    const code = "interface P { x: number }\nconst p: P = { x: 1 };\nfunction f<T>(a: T, b?: string): T { return a as T }\nclass C implements P { private x!: number; constructor(readonlyish: number) { this.x = readonlyish } }\nf<number>(p.x!)";
    const out = js(code);
    expect(out.remap).toBeUndefined();
    const lines = out.js.split("\n");
    expect(lines[1]).toBe("const p    = { x: 1 };");
    expect(lines[2]).toBe("function f   (a   , b         )    { return a      }");
    expect(lines[4]).toBe("f        (p.x )");
    // Same length line by line, so V8's positions are the cell's.
    code.split("\n").forEach((line, i) => expect(lines[i].length).toBe(line.length));
  });

  it("rewrites imports to awaited loads on the same line and drops export keywords", () => {
    const out = js("import a, { b as c, type T } from 'm';\nimport * as ns from './x.ts';\nimport type { U } from 'u';\nexport const k = 1;\nexport default k;\nawait import('y')");
    const lines = out.js.split("\n");
    expect(lines[0]).toBe('const { default: a, b: c } = await __cellImport("m");');
    expect(lines[1]).toBe('const ns = await __cellImport("./x.ts");');
    expect(lines[2].trim()).toBe(";");
    expect(lines[3]).toBe("       const k = 1;");
    expect(lines[4].trim()).toBe("0,             k;".trim());
    expect(lines[5]).toBe("await __cellImport('y')");
  });

  it("keeps a blanked declaration from gluing its neighbours together (ASI)", () => {
    const out = js("let v = 1\ntype T = number\n;[v].length");
    expect(out.js.split("\n")[1].startsWith(";")).toBe(true);
  });

  it("takes TypeScript's emit for enums and maps positions back", () => {
    const out = js("enum E { A }\n\nconst z: number = 1;\nthrow new Error()");
    expect(out.remap).toBeDefined();
    const line = out.js.split("\n").findIndex((l) => l.includes("throw")) + 1;
    expect(out.remap!({ line, column: 1 })).toEqual({ line: 4, column: 1 });
  });

  it("takes a cell that is one object literal as the object, not a block", () => {
    expect(js("{ a: 1, b: [2] }").js).toMatch(/^\(\{ a: 1, b: \[2\] \}\)/);
    expect(js("{ let inner = 1; }").js).toMatch(/^\{ let inner = 1; \}/);
  });

  it("reports syntax errors with the cell's positions", () => {
    const result = transpileCell("const a = 1;\nconst = 2;", "cell-9.ts");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostics[0]).toMatchObject({ line: 2, column: 7 });
  });
});
