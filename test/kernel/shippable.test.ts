import { describe, expect, it } from "vitest";
import { cellDeclarations, shippableDeclarations } from "../../kernel/interactive/shippable.ts";

describe("what a cell ships to PEs", () => {
  it("ships classes, functions and constant declarations, with a registration trailer", () => {
    const js = [
      "const SIM_BOX_SIZE = 100.0;",
      "const HALF = SIM_BOX_SIZE / 2, NAMES = ['a', `b`], CFG = { n: 3, f: (x) => x * HALF };",
      "class Particle { constructor(x, y) { this.x = x; this.y = y; } }",
      "class Cell extends Chare { run() { return new Particle(1, 2); } }",
      "function speed(p) { return Math.hypot(p.x, p.y); }",
    ].join("\n");
    const shipped = shippableDeclarations(js)!;
    expect(shipped.classes).toEqual(["Particle", "Cell"]);
    for (const line of js.split("\n")) expect(shipped.script).toContain(line);
    expect(shipped.script.trim().endsWith("__charm4tsDefine([Particle, Cell, speed]);")).toBe(true); // functions too: pool tasks
  });

  it("keeps statements with effects on the driver", () => {
    const js = [
      "const cells = charm.array(Cell, [4, 4]);",
      "let total = await cells.count.ret();",
      "console.log(total);",
      "const r = Math.random();",
      "var counter = 0; counter++;",
      "const { a } = obj;",
      "for (let i = 0; i < 3; i++) {}",
    ].join("\n");
    const shipped = shippableDeclarations(js);
    expect(shipped?.script ?? "").not.toMatch(/charm\.array|await|console|Math\.random|counter\+\+|obj|for \(/);
    expect(shipped?.script).toContain("var counter = 0;");
  });

  it("ships registrations every PE needs: custom reducers and serializable classes", () => {
    const js = [
      "const minMax = Reducer.register('minMax', (v) => v.reduce((a, b) => a));",
      "Reducer.register('first', (v) => v[0]);",
      "charm.serializable(Point);",
      "charm.array(Cell, 4);",
    ].join("\n");
    const script = shippableDeclarations(js)!.script;
    expect(script).toContain("const minMax = Reducer.register(");
    expect(script).toContain("Reducer.register('first'");
    expect(script).toContain("charm.serializable(Point);");
    expect(script).not.toContain("charm.array");
  });

  it("names what ships and what only the driver has, destructured names too", () => {
    const js = [
      "const K = 3, L = [K, 2];",
      "let seed = Math.random(), other = 1;",
      "var { lo, hi: [a, , b], ...rest } = obj;",
      "class C {}",
      "function f() {}",
      "charm.array(C, 2);",
    ].join("\n");
    const { shipped, driverOnly } = cellDeclarations(js);
    expect(shipped.sort()).toEqual(["C", "K", "L", "f"]);
    // `other` is a constant, but its statement computes `seed` too, so all of it stays here.
    expect(driverOnly).toEqual(["seed", "other", "lo", "a", "b", "rest"]);
    expect(cellDeclarations("const data = load();")).toEqual({ shippable: undefined, shipped: [], driverOnly: ["data"], driverJs: "const data = load();", driverRemap: expect.any(Function), assigned: [], referenced: [] });
  });

  it("names what the shipped code reads, not what it declares or its property names", () => {
    const js = [
      "let failure, limit = 3;",
      "class Reader extends Chare { limit = 1; read(x) { return [note, this.limit, { limit }, limit * scale.factor]; } }",
      "function f({ a }) { return helper(a); }",
      "console.log(unshipped);",
    ].join("\n");
    expect(cellDeclarations(js).referenced.sort()).toEqual(["Chare", "a", "helper", "limit", "note", "scale"]);
  });

  it("ships nothing from a cell without declarations", () => {
    expect(shippableDeclarations("1 + 1;\nconsole.log('x')")).toBeUndefined();
  });
});
