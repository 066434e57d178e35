// A top-level name the PEs got from a cell's declaration, assigned later on the driver: the
// chares see the new value from the assignment on, or the cell says why they can't.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CellExecutor } from "../../kernel/cells/executor.ts";
import type { CellOutput, CellResult } from "../../kernel/cells/protocol.ts";
import { Reassignments, setScript } from "../../kernel/interactive/reassigned.ts";
import { tempDir } from "../temp-dir.ts";

/** Reassignments over a stand-in runtime: the scripts it defines, and a send that runs the armed work. */
function standIn(fail = false) {
  const scripts: string[] = [];
  let armed: (() => void) | undefined;
  const names = new Reassignments({
    define: async (code, key) => { scripts.push(`${key}: ${code}`); if (fail) throw new Error("PE 1 said no"); },
    beforeNextSend: (work) => { armed = work; },
  });
  const send = () => { const work = armed; armed = undefined; work?.(); };
  return { names, scripts, send };
}

describe("the values of assigned names, between the cell and the PEs", () => {
  it("sends a changed value before the next message, once, and not the same value again", async () => {
    const { names, scripts, send } = standIn();
    names.declared({ shipped: ["speed"], driverOnly: [], referenced: ["speed"] });
    let speed = 1;
    expect(names.assigned((speed = 2), "speed", () => speed)).toBe(2);
    expect(names.assigned(speed++, "speed", () => speed)).toBe(2);
    expect(scripts).toEqual([]);
    send();
    expect(scripts).toEqual([`assigned:speed: ${setScript("speed", "3")}`]);
    send();
    names.assigned((speed = 3), "speed", () => speed);
    expect(await names.settle()).toBeUndefined();
    expect(scripts).toHaveLength(1);
  });

  it("says once, at the cell's end, which names kept their old value on the PEs", async () => {
    const { names, scripts, send } = standIn();
    names.declared({ shipped: ["a", "b", "c"], driverOnly: [], referenced: ["a", "b", "c"] });
    names.assigned(0, "a", () => new Set());
    send();
    names.assigned(0, "a", () => new Set());
    names.assigned(0, "b", () => () => 1);
    names.assigned(0, "c", () => { throw new Error("gone"); });
    const notice = await names.settle();
    expect(scripts).toEqual([]);
    expect(notice).toBe("charm4ts: the PEs still see the old values of `a` (assigned a Set), `b` (assigned a function), `c` (assigned a value that could not be read (gone)): " +
      "only constants of literals (numbers, strings, booleans, null, undefined, and arrays and plain objects of those) are sent to them when assigned. " +
      "Declare them again in a cell (`let a = …` with a literal value), or pass the values to the chares as arguments.\n");
    expect(await names.settle()).toBeUndefined();
  });

  it("a name no PE code reads is neither sent nor said; once shipped code reads it, its value goes ahead of that code", async () => {
    const { names, scripts, send } = standIn();
    names.declared({ shipped: ["error", "note"], driverOnly: [], referenced: [] });
    names.assigned(0, "error", () => new Error("lost"));
    names.assigned(0, "note", () => "hi");
    send();
    expect(await names.settle()).toBeUndefined();
    expect(scripts).toEqual([]);
    // A later cell ships a class that reads both: `note` goes before it, `error` is said.
    names.declared({ shipped: ["Reader"], driverOnly: [], referenced: ["note", "error"] });
    send();
    expect(scripts).toEqual([`assigned:note: ${setScript("note", '"hi"')}`]);
    expect(await names.settle()).toMatch(/^charm4ts: the PEs still see the old value of `error` \(assigned an Error\)/);
  });

  it("a cell's end waits only a moment for a PE busy with earlier work; a failure coming later is told at a later end", async () => {
    let refuse!: (error: Error) => void;
    const names = new Reassignments({ define: () => new Promise((_, reject) => (refuse = reject)), beforeNextSend: () => undefined });
    names.declared({ shipped: ["a"], driverOnly: [], referenced: ["a"] });
    names.assigned(0, "a", () => 1);
    expect(await names.settle()).toBeUndefined(); // the define is still pending
    refuse(new Error("PE 0 said no"));
    expect(await names.settle()).toBe("charm4ts: the new value of `a` could not be set on the PEs: PE 0 said no\n");
  });

  it("forgets a name declared again on the driver alone, or whose declaration the PEs refused", async () => {
    const { names, scripts } = standIn();
    names.declared({ shipped: ["a", "b"], driverOnly: [], referenced: ["a", "b"] });
    names.assigned(0, "a", () => 1);
    names.declared({ shipped: [], driverOnly: ["a"], referenced: [] });
    names.notShipped(["b"]);
    names.assigned(0, "b", () => 1);
    expect(await names.settle()).toBeUndefined();
    expect(scripts).toEqual([]);
    expect([...names.names]).toEqual([]);
  });

  it("a value the PEs couldn't take is said", async () => {
    const { names } = standIn(true);
    names.declared({ shipped: ["a"], driverOnly: [], referenced: ["a"] });
    names.assigned(0, "a", () => 1);
    expect(await names.settle()).toBe("charm4ts: the new value of `a` could not be set on the PEs: PE 1 said no\n");
  });
});

let executor: CellExecutor;
interface Ran { result: CellResult; stdout: string; stderr: string }
/** Queues a cell; its outputs are collected until its reply. */
function queue(code: string): Promise<Ran> {
  let stdout = "";
  let stderr = "";
  return executor.execute(code, {
    output: (o: CellOutput) => {
      if (o.kind === "stream") o.name === "stdout" ? (stdout += o.text) : (stderr += o.text);
    },
    input: async () => "",
  }).then((result) => ({ result, stdout, stderr }));
}
const run = queue;
const value = (r: CellResult) => (r.status === "ok" ? r.value?.data["text/plain"] : `${r.ename}: ${r.evalue}`);
/** Runs a cell that must succeed without a word on stderr, and gives its value. */
async function quietValue(code: string): Promise<string | undefined> {
  const { result, stderr } = await run(code);
  expect(stderr, `stderr of:\n${code}`).toBe("");
  expect(result.status, `${code}\n→ ${value(result)}`).toBe("ok");
  return value(result) as string | undefined;
}

describe("assigning a name the PEs have", () => {
  beforeAll(async () => {
    process.env.CHARM4TS_PES = "2";
    // Without type checks: assigning a Map to a `let` of numbers is the point of one test here.
    executor = await CellExecutor.start({ cwd: tempDir("reassigned"), typeCheck: false });
  });
  afterAll(() => executor.close());

  it("in the declaring cell: calls after the assignment see the new value, calls before it the old", async () => {
    expect(await quietValue(`
let speed = 1;
class Car extends Chare { go() { return speed; } }
const cars = charm.array(Car, 2);
const before = cars.go.ret();
speed = 2;
[await before, await cars.go.ret()]`)).toBe("[ [ 1, 1 ], [ 2, 2 ] ]");
  });

  it("in a later cell, with =, += and ++", async () => {
    expect(await quietValue("speed = 10")).toBe("10");
    expect(await quietValue("await cars.go.ret()")).toBe("[ 10, 10 ]");
    expect(await quietValue("speed += 5;\nawait cars.go.ret()")).toBe("[ 15, 15 ]");
    expect(await quietValue("speed++;\nawait cars.go.ret()")).toBe("[ 16, 16 ]");
  });

  it("by destructuring, and through a property of a plain object", async () => {
    await quietValue(`
let name = "a", limits = { lo: 0, hi: [1, 2] };
class Reader extends Chare { read() { return [name, limits.hi[1], speed]; } }
const readers = charm.array(Reader, 2);`);
    expect(await quietValue("[name, speed] = [\"b\", 20];\nlimits.hi[1] = 30;\nawait readers.at(1).read.ret()")).toBe("[ 'b', 30, 20 ]");
    expect(await quietValue("({ name } = { name: \"c\" });\nawait readers.at(0).read.ret()")).toBe("[ 'c', 30, 20 ]");
  });

  it("through a property or an element of a const object or array: its contents change on the PEs too", async () => {
    // (LIST.push isn't an assignment: LIST's whole value goes with the next one.)
    // `state = …` can't run on the PEs for a const: it failed there with "Assignment to constant
    // variable" and an internal stack, and the chares kept the old contents.
    await quietValue(`
const state = { count: 0 };
const LIST = [1, 2];
class Holder extends Chare { get() { return JSON.stringify({ state, LIST }); } }
const holders = charm.array(Holder, 2);`);
    expect(await quietValue("state.count = 5;\nLIST[1] = 5;\nLIST.push(6);\nawait holders.at(1).get.ret()")).toBe(`'{"state":{"count":5},"LIST":[1,5,6]}'`);
    expect(await quietValue("state.count++;\nLIST[0] = 9;\nawait holders.at(0).get.ret()")).toBe(`'{"state":{"count":6},"LIST":[9,5,6]}'`);
  });

  it("inside a loop and a function of the cell: the value when the next call goes out", async () => {
    expect(await quietValue("for (let i = 0; i < 1000; i++) speed = i;\nawait cars.at(0).go.ret()")).toBe("999");
    await quietValue("function setSpeed(v: number) { speed = v; }");
    expect(await quietValue("setSpeed(77);\nawait cars.go.ret()")).toBe("[ 77, 77 ]");
  });

  it("a value that can't be sent is said once in the cell's output, and the PEs keep the last one", async () => {
    const { result, stderr } = await run("speed = new Map([[1, 2]]);\nspeed = new Map();\nawait cars.go.ret()");
    expect(value(result)).toBe("[ 77, 77 ]");
    expect(stderr.match(/`speed`/g)).toHaveLength(1);
    expect(stderr).toMatch(/^charm4ts: the PEs still see the old value of `speed` \(assigned a Map\): only constants of literals .* Declare it again in a cell \(`let speed = …` with a literal value\), or pass the value to the chares as an argument\.$/m);
    // A literal again reaches them.
    expect(await quietValue("speed = 78;\nawait cars.go.ret()")).toBe("[ 78, 78 ]");
  });

  it("a local of the same name is not the PEs' name: no notice, nothing sent", async () => {
    expect(await quietValue(`
function local(speed: unknown) { speed = new Set(); return speed; }
{ let speed = new Map(); speed = new WeakMap(); }
for (const speed of [new Set()]) {}
const f = () => { let speed = 0; speed++; return speed; };
local(1); f();
await cars.go.ret()`)).toBe("[ 78, 78 ]");
  });

  it("a name no chare reads is the driver's own: no notice; code shipped later that reads it gets its value, or the notice", async () => {
    expect(await quietValue(`let failure: unknown, note = "";
try { JSON.parse("{"); } catch (e) { failure = e; note = "parsed badly"; }
note`)).toBe("'parsed badly'");
    const { result, stderr } = await run("class Notes extends Chare { read() { return [note, typeof failure]; } }\nawait charm.array(Notes, 1).read.ret()");
    expect(value(result)).toBe("[ [ 'parsed badly', 'undefined' ] ]");
    expect(stderr).toMatch(/^charm4ts: the PEs still see the old value of `failure` \(assigned a SyntaxError\)/);
  });

  it("Run All: cells queued at once see each other's assignments", async () => {
    const cells = [
      "let level = 1;\nclass Level extends Chare { get() { return level; } }\nconst levels = charm.array(Level, 2);",
      "level = 2",
      "level *= 21",
      "await levels.get.ret()",
    ].map(queue);
    const [, , , last] = await Promise.all(cells);
    expect(last.stderr).toBe("");
    expect(value(last.result)).toBe("[ 42, 42 ]");
  });

  it("PEs started later get the value assigned last", async () => {
    await quietValue("level = 43");
    await quietValue("await charm.restart()");
    expect(await quietValue("await charm.array(Level, 2).get.ret()")).toBe("[ 43, 43 ]");
  });
});
