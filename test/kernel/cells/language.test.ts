import { afterAll, beforeAll, expect, it } from "vitest";
import { tmpdir } from "node:os";
import { CellExecutor } from "../../../kernel/cells/executor.ts";
import { recorder } from "./helpers.ts";

let executor: CellExecutor;
beforeAll(async () => {
  executor = await CellExecutor.start({ cwd: tmpdir() });
});
afterAll(() => executor.close());

/** Code-point length, the unit Jupyter cursors use. */
const points = (s: string) => [...s].length;

it("completes string methods of a name declared in the same cell", async () => {
  const code = 'const s = "x"; s.toUpp';
  const reply = await executor.complete(code, points(code));
  expect(reply.matches).toContain("toUpperCase");
  expect(reply).toMatchObject({ cursor_start: code.length - 5, cursor_end: code.length });
  expect(reply.metadata._jupyter_types_experimental).toContainEqual({ start: code.length - 5, end: code.length, text: "toUpperCase", type: "method" });
});

it("completes names and types from earlier cells", async () => {
  await executor.execute("interface Particle { position: number; velocity: number }\nconst particles: Particle[] = [];", recorder().hooks);
  const code = "particles[0].vel";
  expect((await executor.complete(code, points(code))).matches).toEqual(["velocity"]);
});

it("counts cursor positions in code points when an emoji precedes the cursor", async () => {
  const code = 'const label = "😀🎉"; label.len';
  const reply = await executor.complete(code, points(code));
  expect(reply.matches).toContain("length");
  // In UTF-16 the word starts two units later than in code points.
  expect(reply.cursor_start).toBe(points(code) - 3);
  expect(reply.cursor_end).toBe(points(code));
});

it("falls back to live property names where the types know nothing", async () => {
  await executor.execute("const loose: any = JSON.parse('{\"alpha\": 1, \"beta\": 2}')", recorder().hooks);
  const code = "loose.al";
  const reply = await executor.complete(code, points(code));
  expect(reply.matches).toEqual(["alpha"]);
  expect(reply.cursor_start).toBe(6);
});

it("inspects a name with its type, after an emoji", async () => {
  await executor.execute("/** Adds one. */\nfunction inc(n: number): number { return n + 1 }", recorder().hooks);
  const code = "'🎉'; inc";
  const reply = await executor.inspect(code, points(code), 0);
  expect(reply.found).toBe(true);
  expect(String(reply.data["text/plain"])).toContain("function inc(n: number): number");
  expect(String(reply.data["text/plain"])).toContain("Adds one.");
  expect((await executor.inspect("   ", 1, 0)).found).toBe(false);
});

it("offers a proxy's entry methods (not the chare's fields), and ret/awaitable on an entry method (not Function's members)", async () => {
  const chare = "class Squarer extends Chare {\n  total = 0;\n  /** Squares a number on its PE. */\n  square(x: number) { return x * x; }\n}\ndeclare const squares: CollectionProxy<Squarer>;\n";
  const onElement = `${chare}squares.at(0).`;
  const element = (await executor.complete(onElement, points(onElement))).matches;
  expect(element).toContain("square");
  expect(element).not.toContain("total");
  const onCollection = `${chare}squares.`;
  expect((await executor.complete(onCollection, points(onCollection))).matches).toEqual(expect.arrayContaining(["at", "slice", "square"]));
  expect((await executor.complete(onCollection, points(onCollection))).matches).not.toContain("total");
  const onMethod = `${chare}squares.at(0).square.`;
  expect((await executor.complete(onMethod, points(onMethod))).matches).toEqual(["awaitable", "ret"]);
  // Plain objects keep everything TypeScript offers.
  const plain = "const f = (x: number) => x;\nf.";
  expect((await executor.complete(plain, points(plain))).matches).toEqual(expect.arrayContaining(["apply", "bind", "call"]));
});

it("hover shows the user's JSDoc through a proxy, and the runtime's docs for its globals", async () => {
  const chare = "class Squarer extends Chare {\n  /** Squares a number on its PE. */\n  square(x: number) { return x * x; }\n}\ndeclare const squares: CollectionProxy<Squarer>;\n";
  const onProxy = `${chare}squares.at(0).square`;
  const proxyDoc = await executor.inspect(onProxy, points(onProxy), 0);
  expect(proxyDoc.found && proxyDoc.data["text/plain"]).toContain("Squares a number on its PE.");
  const global = "Chare";
  const chareDoc = await executor.inspect(global, points(global), 0);
  expect(chareDoc.found && chareDoc.data["text/plain"]).toContain("Base class of every chare");
});
