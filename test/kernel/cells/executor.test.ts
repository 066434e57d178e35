import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tmpdir } from "node:os";
import { CellExecutor, type CellOutput, type CellResult } from "../../../kernel/cells/executor.ts";
import { deferred, recorder } from "./helpers.ts";

let executor: CellExecutor;
beforeAll(async () => {
  executor = await CellExecutor.start({ cwd: tmpdir() });
});
afterAll(() => executor.close());

const run = (code: string) => executor.execute(code, recorder().hooks);
const plain = (result: CellResult) => (result.status === "ok" ? result.value?.data["text/plain"] : result);
/** A traceback line without its ANSI colours (tracebacks are coloured as IPython's are). */
const uncoloured = (line: string | undefined) => (line ?? "").replace(/\u001b\[[0-9;]*m/g, "");

describe("cell semantics", () => {
  it("lets let, const, class and function be declared again", async () => {
    for (let round = 0; round < 2; round++) {
      expect(await run(`let a = ${round}; const b = 1; class C {}; function f() { return 1 }`)).toEqual({ status: "ok" });
    }
    expect(plain(await run("a"))).toBe("1");
  });

  it("keeps bindings live: a function from an earlier cell sees a later reassignment", async () => {
    await run("let counter = 1; function readCounter() { return counter }");
    await run("counter = 5");
    expect(plain(await run("readCounter()"))).toBe("5");
  });

  it("supports top-level await", async () => {
    expect(plain(await run("await new Promise<number>((r) => setTimeout(() => r(42), 1))"))).toBe("42");
  });

  it("returns the last expression's value, none for declarations", async () => {
    expect(plain(await run("const o = { n: 1 };\no"))).toBe("{ n: 1 }");
    expect(await run("const unused = 3;")).toEqual({ status: "ok" });
    expect(await run("undefined")).toEqual({ status: "ok" });
  });

  it("returns every kind of primitive exactly, whether or not the inspector sent it by value", async () => {
    const cases: Array<[string, string]> = [
      ["1 + 1", "2"], ["-0", "-0"], ["0 / 0", "NaN"], ["-1 / 0", "-Infinity"], ["2n ** 70n", "1180591620717411303424n"],
      ["'text'", "'text'"], ["true", "true"], ["null", "null"], ["Symbol('s')", "Symbol(s)"], ["await Promise.resolve(7)", "7"],
    ];
    for (const [code, shown] of cases) expect(plain(await run(code)), code).toBe(shown);
    // Thrown primitives are errors of the cell, as thrown objects are.
    expect(await run("throw 5")).toMatchObject({ status: "error", ename: "Uncaught", evalue: "threw 5 (not an Error: no stack)" });
  });

  it("runs TypeScript: annotations, generics, interfaces, enums", async () => {
    const code = "interface P { x: number }\nconst p: P = { x: 2 };\nenum E { A, B }\nfunction id<T>(v: T): T { return v as T }\nid<number>(p.x) + E.B";
    expect(plain(await run(code))).toBe("3");
  });

  it("reports errors at the cell's own line numbers", async () => {
    const result = await run("const a1 = 1;\nconst a2: string = 'x';\nthrow new Error('on line 3');");
    expect(result).toMatchObject({ status: "error", ename: "Error", evalue: "on line 3" });
    if (result.status === "error") expect(result.traceback.join("\n")).toMatch(/cell-\d+\.ts:3:7/);
  });

  it("keeps line numbers when the cell needs the full TypeScript emit", async () => {
    const result = await run("enum Colour { Red }\n\nfunction boom(): never {\n  throw new RangeError('line 4');\n}\nboom()");
    expect(result).toMatchObject({ status: "error", ename: "RangeError" });
    if (result.status === "error") expect(uncoloured(result.traceback[1])).toMatch(/boom \(cell-\d+\.ts:4:9\)/);
  });

  it("names a cell as the kernel asks (its execution count), and keeps names unique", async () => {
    const first = await executor.execute("\nthrow new Error('named')", recorder().hooks, { name: "cell-77.ts" });
    expect(first.status === "error" && uncoloured(first.traceback[1])).toMatch(/at cell-77\.ts:2:7/);
    const again = await executor.execute("enum Q { A }\nthrow new Error('again')", recorder().hooks, { name: "cell-77.ts" });
    const line = again.status === "error" ? uncoloured(again.traceback[1]) : "";
    expect(line).toMatch(/at cell-\d+(-\d+)?\.ts:2:7/);
    expect(line).not.toMatch(/cell-77/);
  });

  it("turns a syntax error into a clean error with the position", async () => {
    const result = await run("const ok = 1;\nf(]");
    expect(result).toMatchObject({ status: "error", ename: "SyntaxError" });
    if (result.status === "error") expect(result.evalue).toMatch(/cell-\d+\.ts:2:3/);
  });
});

describe("cell I/O", () => {
  it("routes console.log to stdout and console.error to stderr", async () => {
    const r = recorder();
    await executor.execute("console.log('out', { a: 1 }); console.error('err'); process.stdout.write('raw')", r.hooks);
    expect(r.stdout()).toBe("out { a: 1 }\nraw");
    expect(r.stderr()).toBe("err\n");
  });

  it("joins a burst of writes into few outputs, keeping order with other outputs", async () => {
    const r = recorder();
    await executor.execute("for (let i = 0; i < 2000; i++) console.log(i);\ndisplay.text('between');\nconsole.log('after')", r.hooks);
    expect(r.outputs.length).toBeLessThan(2000);
    const kinds = r.outputs.map((o) => (o.kind === "stream" ? o.text.trim().split("\n").at(-1) : o.kind));
    expect(kinds.slice(-3)).toEqual(["1999", "display", "after"]);
    expect(r.stdout().split("\n").slice(0, 3)).toEqual(["0", "1", "2"]);
  });

  it("displays rich data, updates it by id, and clears output", async () => {
    const r = recorder();
    await executor.execute(
      "const h = display.html('<b>1</b>', { id: 'progress' }); h.update('<b>2</b>'); display.json({ k: [1] }); display.png(new Uint8Array([1, 2])); clearOutput(true)",
      r.hooks,
    );
    expect(r.outputs).toEqual([
      { kind: "display", data: { "text/html": "<b>1</b>", "text/plain": "<b>1</b>" }, metadata: {}, transient: { display_id: "progress" }, update: false },
      { kind: "display", data: { "text/html": "<b>2</b>", "text/plain": "<b>2</b>" }, metadata: {}, transient: { display_id: "progress" }, update: true },
      expect.objectContaining({ kind: "display", data: { "application/json": { k: [1] }, "text/plain": "{ k: [ 1 ] }" } }),
      expect.objectContaining({ kind: "display", data: { "image/png": "AQI=", "text/plain": "<png image>" } }),
      { kind: "clear", wait: true },
    ]);
  });

  it("does not echo a display handle as the cell's value", async () => {
    const r = recorder();
    expect(await executor.execute("display.text('shown once')", r.hooks)).toEqual({ status: "ok" });
    expect(r.outputs).toHaveLength(1);
  });

  it("uses a value's own mime bundle for its result", async () => {
    const result = await run("({ [Symbol.for('charm4ts.mimeBundle')]() { return { 'text/html': '<i>me</i>' } } })");
    expect(result.status === "ok" && result.value?.data["text/html"]).toBe("<i>me</i>");
  });

  it("asks the kernel for input and password", async () => {
    const r = recorder("typed");
    const result = await executor.execute("const name = await input('Name? '); const pw = await password('PW'); name + pw", r.hooks);
    expect(plain(result)).toBe("'typedtyped'");
    expect(r.inputs).toEqual([{ prompt: "Name? ", password: false }, { prompt: "PW", password: true }]);
  });

  it("delivers output that arrives after its cell ended to onLateOutput", async () => {
    const late = deferred<string>();
    executor.onLateOutput = (o) => late.resolve(o.kind === "stream" ? o.text : "");
    await run("setTimeout(() => console.log('late one'), 0); 1");
    expect(await late.promise).toBe("late one\n");
    executor.onLateOutput = undefined;
  });

  it("without onLateOutput, keeps late output for the next cell", async () => {
    await run("setTimeout(() => console.log('late two'), 0); 1");
    const r = recorder();
    // The 0 ms timer was set first, so it fires before this cell's 5 ms timer.
    await executor.execute("await new Promise((r) => setTimeout(r, 5))", r.hooks);
    expect(r.stdout()).toContain("late two\n");
  });

  it("reports a throwing timer and an unhandled rejection without losing the worker", async () => {
    const reports: string[] = [];
    const both = deferred();
    // Each report lands in the cell (while it runs) or as late output (after): collect both.
    const collect = (o: CellOutput) => {
      if (o.kind === "stream" && o.name === "stderr") reports.push(o.text);
      const all = reports.join("");
      if (all.includes("nobody awaits") && all.includes("from a timer")) both.resolve();
    };
    executor.onLateOutput = collect;
    await executor.execute("let survivor = 'alive';\nsetTimeout(() => { throw new Error('from a timer') }, 0);\nPromise.reject(new TypeError('nobody awaits'));\n1", { ...recorder().hooks, output: collect });
    await both.promise;
    executor.onLateOutput = undefined;
    expect(reports.join("")).toMatch(/Unhandled promise rejection: TypeError: nobody awaits/);
    expect(reports.join("")).toMatch(/Uncaught exception: Error: from a timer\n\s+at Timeout\._onTimeout \(cell-\d+\.ts:2:26\)/);
    expect(plain(await run("survivor"))).toBe("'alive'");
  });
});
