import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CellExecutor } from "../../kernel/cells/executor.ts";
import type { CellOutput, CellResult } from "../../kernel/cells/protocol.ts";
import { tempDir } from "../temp-dir.ts";

// The parallel runtime inside the cell thread: chares defined in cells, used in later cells.
let executor: CellExecutor;
async function run(code: string): Promise<{ result: CellResult; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const result = await executor.execute(code, {
    output: (o: CellOutput) => {
      if (o.kind === "stream") o.name === "stdout" ? (stdout += o.text) : (stderr += o.text);
    },
    input: async () => "",
  });
  return { result, stdout, stderr };
}
const value = (r: CellResult) => (r.status === "ok" ? r.value?.data["text/plain"] : `${r.ename}: ${r.evalue}`);

describe("the runtime inside the kernel's cells", () => {
  beforeAll(async () => {
    process.env.CHARM4TS_PES = "2";
    executor = await CellExecutor.start({ cwd: tempDir("cells") });
  });
  afterAll(() => executor.close());

  it("has PEs and the runtime's names in every cell", async () => {
    expect(value((await run("charm.numPes()")).result)).toBe("2");
  });

  it("runs a chare class defined in a cell on every PE; PE output is labelled", async () => {
    const { result, stdout } = await run(`
class HelloWorld extends Chare {
  sayHello() { console.log("Hello from chare:", this.thisIndex[0], "on PE", charm.myPe()); }
}
const chares = charm.array(HelloWorld, 4);
await chares.sayHello.awaitable();`);
    expect(result.status).toBe("ok");
    for (let i = 0; i < 4; i++) expect(stdout).toContain(`[PE ${i < 2 ? 0 : 1}] Hello from chare: ${i} on PE ${i < 2 ? 0 : 1}`);
  });

  it("what the PEs print for an awaited broadcast is in the cell, though PE 1's completion comes through PE 0", async () => {
    await run('class Printer extends Chare { hello() { console.log("printed by", this.thisIndex[0]); } }\nconst printers = charm.array(Printer, 8);');
    for (let i = 0; i < 10; i++) {
      const { stdout } = await run("await printers.hello.awaitable();");
      expect(stdout.split("\n").filter(Boolean)).toHaveLength(8);
    }
  });

  it("a chare class written inside an expression fails its calls and broadcasts with what to do, not a hang", async () => {
    await run("const inline = charm.array(class Inline extends Chare { f() { return 1; } }, 2);");
    const broadcast = await run("await inline.f.ret()");
    expect(value(broadcast.result)).toMatch(/can't reach its elements on PE \d: creating them failed \(chare class Inline is not known on PE \d\. In a notebook, PEs get the chare classes a cell declares at its top level/);
    const one = await run("await inline.at(1).f.ret()");
    expect(value(one.result)).toMatch(/Inline\[1\] does not exist on PE 1: creating it failed .*Declare it at a cell's top level/);
    // Declared at the top level, the same class works.
    expect(value((await run("class Inline extends Chare { f() { return 1; } }\nawait charm.array(Inline, 2).f.ret()")).result)).toBe("[ 1, 1 ]");
  });

  it("ships helper functions and constants; arrays live on into later cells", async () => {
    const defined = await run(`
const SCALE = 10;
function scaled(x: number) { return x * SCALE; }
class Worker extends Chare { value() { return scaled(this.thisIndex[0]); } }
const workers = charm.array(Worker, 4);
await workers.value.ret()`);
    expect(value(defined.result)).toBe("[ 0, 10, 20, 30 ]");
    expect(value((await run("await workers.at(3).value.ret()")).result)).toBe("30");
  });

  it("finds chare classes from the syntax tree: a subclass of a chare class is one too (Charm4Py's regex missed it)", async () => {
    await run("class Base extends Chare { hello() { return `hello from ${this.describe()}`; } describe() { return 'base'; } }");
    const { result } = await run(`
class Derived extends Base { describe() { return "derived " + this.thisIndex[0]; } }
await charm.array(Derived, 2).hello.ret()`);
    expect(value(result)).toBe("[ 'hello from derived 0', 'hello from derived 1' ]");
  });

  it("redefining a class upgrades live chares", async () => {
    const redefined = await run(`
class Worker extends Chare { value() { return -scaled(this.thisIndex[0]); } cube() { return this.thisIndex[0] ** 3; } }
await workers.cube.ret()`);
    expect(value(redefined.result)).toBe("[ 0, 1, 8, 27 ]");
    expect(value((await run("await workers.at(2).value.ret()")).result)).toBe("-20");
  });

  describe("a chare that uses a name only the driver has", () => {
    const explained = (name: string) =>
      new RegExp(`\\(raised on PE \\d in [^)]*\\): \`${name}\`, declared in cell-\\d+\\.ts, exists only on the driver — ` +
        "values computed by calls, await or new aren't sent to the PEs\\. Pass it to the chare as an argument \\(or a constructor argument\\), or declare it as a constant of literals\\.");

    it("says that the name exists only on the driver, and what to do", async () => {
      const { result } = await run(`
const data = [1, 2, 3].map((x) => x * 10);
class UsesData extends Chare { go() { return data[this.thisIndex[0]!]; } }
await charm.array(UsesData, 2).go.ret()`);
      expect(result.status).toBe("error");
      if (result.status !== "error") return;
      expect(result.evalue).toMatch(explained("data"));
      expect(result.evalue).toMatch(/^ReferenceError: data is not defined \(raised on PE \d in UsesData\[\d\]\.go\): `data`, declared in cell-\d+\.ts/);
      // The rest of the report is as before: the chare's line in this cell.
      const traceback = result.traceback.join("\n").replace(/\u001b\[[0-9;]*m/g, "");
      expect(traceback).toMatch(/at UsesData\.go \(cell-\d+\.ts:3:\d+\)/);
    });

    it("in a constructor, for let and var too", async () => {
      const { result } = await run(`
let seed = Math.random();
var scale = Date.now();
class Seeded extends Chare { s: number; constructor() { super(); this.s = seed * scale; } get() { return this.s; } }
await charm.array(Seeded, 2).get.ret()`);
      expect(result.status).toBe("error");
      expect(value(result)).toMatch(/can't reach its elements on PE \d: creating them failed \(ReferenceError: seed is not defined\) \(raised on PE \d in Seeded\.get\)/);
      expect(value(result)).toMatch(explained("seed"));
    });

    it("for a name a destructuring declared", async () => {
      const { result } = await run(`
const { lo, hi } = { lo: Math.random(), hi: 1 + Math.random() };
class Range extends Chare { width() { return hi - lo; } }
await charm.array(Range, 1).width.ret()`);
      expect(value(result)).toMatch(explained("(lo|hi)"));
    });

    it("not for a name no cell declared (a typo)", async () => {
      const { result } = await run(`
class Typo extends Chare { f() { return dtaa; } }
await charm.array(Typo, 1).f.ret()`);
      expect(value(result)).toMatch(/ReferenceError: dtaa is not defined \(raised on PE 0 in Typo\[0\]\.f\)$/);
    });

    it("not once a later cell declares the name as a constant the PEs get", async () => {
      await run("const later = Math.random();");
      await run("const later = 7;");
      expect(value((await run("class Later extends Chare { f() { return later; } }\nawait charm.array(Later, 1).f.ret()")).result)).toBe("[ 7 ]");
      // The PEs have `later` now, so a ReferenceError naming it is not the driver-only kind.
      const { result } = await run(`
class Stale extends Chare { f() { throw new ReferenceError("later is not defined"); } }
await charm.array(Stale, 1).f.ret()`);
      expect(value(result)).toMatch(/ReferenceError: later is not defined \(raised on PE 0 in Stale\[0\]\.f\)$/);
    });
  });

  it("a remote exception names the PE, the chare, the method and the cell's own line", async () => {
    const { result } = await run(`
class Thrower extends Chare {
  boom() {
    throw new RangeError("kaboom");
  }
}
await charm.array(Thrower, 2).at(1).boom.ret()`);
    expect(result.status).toBe("error");
    if (result.status !== "error") return;
    expect(result.evalue).toContain("RangeError: kaboom (raised on PE 1 in Thrower[1].boom)");
    const traceback = result.traceback.join("\n").replace(/\u001b\[[0-9;]*m/g, "");
    expect(traceback).toMatch(/at Thrower\.boom \(cell-\d+\.ts:4:\d+\)/);
    // …and the line of this cell that awaited the call.
    expect(traceback).toMatch(/awaited at:\n\s+at async cell-\d+\.ts:7:1$/);
  });

  it("tells a cell that waits on a quiescent runtime that nothing can resolve it", async () => {
    const warned = new Promise<string>((resolve) => {
      void executor.execute("const never = new Future<number>(); await never", {
        output: (o: CellOutput) => { if (o.kind === "stream" && o.name === "stderr" && o.text.includes("quiescent")) resolve(o.text); },
        input: async () => "",
      });
    });
    expect(await warned).toContain("the runtime is quiescent");
    executor.interrupt();
    expect(value((await run("1 + 1")).result)).toBe("2");
  });

  it("shows progress of long work, updated in place", async () => {
    const outputs: CellOutput[] = [];
    await executor.execute(`const bar = progress(3, "reductions");
for (let i = 0; i < 3; i++) { const t = new Future<number>(); workers.value.ret().then(() => t.send(i)); await t; bar.tick(); }`, {
      output: (o) => outputs.push(o),
      input: async () => "",
    });
    const shown = outputs.filter((o): o is Extract<CellOutput, { kind: "display" }> => o.kind === "display");
    expect(shown.map((o) => o.update)).toEqual([false, true, true, true]);
    expect(new Set(shown.map((o) => o.transient.display_id)).size).toBe(1);
    expect(shown.at(-1)!.data["text/plain"]).toBe("reductions: 3/3 (100%)");
  });

  it("interrupting a cell that awaits a call an earlier cell made names that call", async () => {
    await run(`class Holder extends Chare {
  release?: (v: number) => void;
  hold() { return new Promise<number>((resolve) => (this.release = resolve)); }
  open() { this.release?.(5); }
}
const holders = charm.array(Holder, 1);
const holding = holders.at(0).hold.ret();`);
    let waiting!: () => void;
    const started = new Promise<void>((resolve) => (waiting = resolve));
    const cell = executor.execute('console.log("waiting");\nawait holding', {
      output: (o: CellOutput) => { if (o.kind === "stream" && o.text.includes("waiting")) waiting(); },
      input: async () => "",
    });
    await started;
    executor.interrupt();
    const result = await cell;
    expect(result.status === "error" && result.evalue).toMatch(/all state is kept\. Still running from earlier cells: Holder\[0\]\.hold\.$/);
    expect(value((await run("holders.at(0).open(); await holding")).result)).toBe("5");
  });

  it("interrupt names the call left running, and a PE stuck in an endless loop is recovered", async () => {
    let started!: () => void;
    const spinning = new Promise<void>((resolve) => (started = resolve));
    let stderr = "";
    const cell = executor.execute(`
class Spinner extends Chare { spin(): number { for (;;) {} } }
const spinner = charm.array(Spinner, 2);
console.log("spinning");
await spinner.at(1).spin.ret()`, {
      output: (o: CellOutput) => {
        if (o.kind === "stream" && o.text.includes("spinning")) started();
        if (o.kind === "stream" && o.name === "stderr") stderr += o.text;
      },
      input: async () => "",
    });
    await spinning;
    executor.interrupt();
    const result = await cell;
    expect(result.status === "error" && result.evalue).toMatch(/Interrupted while waiting for: .*Spinner\[1\]\.spin/);
    // PE 1 spins and is restarted in place; what it held is named per collection, in the cell itself.
    expect(stderr).toMatch(/PE 1 did not answer within 1000 ms: .* It was restarted, and the chares it held were lost:\n/);
    expect(stderr).toMatch(/^ {2}Worker array of 4, made in cell-\d+\.ts: Worker\[2\], Worker\[3\]$/m);
    expect(stderr).toMatch(/^ {2}Spinner array of 2, made in cell-\d+\.ts: Spinner\[1\]$/m);
    // PE 0's chares live on; PE 1's fail clearly; new arrays use both PEs.
    expect(value((await run("await workers.at(1).cube.ret()")).result)).toBe("1");
    expect(value((await run("await workers.at(3).cube.ret()")).result)).toMatch(/^PeLostError: PE 1 was restarted/);
    expect(value((await run("await charm.array(Worker, 2).cube.ret()")).result)).toBe("[ 0, 1 ]");
  });

  it("output caused by an earlier cell's work is marked with that cell when it arrives later", async () => {
    // Cell A leaves a PE blocked (on shared memory) inside A's call; cell B releases it and
    // waits on the same PE, so A's line reaches the driver while B runs, ahead of B's reply.
    await run(`
class Holder extends Chare {
  holdThenPrint(flag: Int32Array) { Atomics.wait(flag, 0, 0); console.log("printed for A"); }
  ping() { return "pong"; }
}
const holders = charm.array(Holder, 2);
const flag = new Int32Array(new SharedArrayBuffer(4));
await charm.awaitCreation(holders);`);
    await run("holders.at(1).holdThenPrint(flag);");
    const b = await run(`Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); await holders.at(1).ping.ret()`);
    expect(value(b.result)).toBe("'pong'");
    expect(b.stdout).toMatch(/^\[from cell-\d+\.ts\] \[PE 1\] printed for A\n$/m);
  });

  it("output after an await in an entry method belongs to the cell that started the method", async () => {
    await run(`
class Waiter extends Chare {
  gate = new Future<void>();
  async waitThenPrint() { await this.gate; console.log("printed after await"); }
  open() { this.gate.send(); }
}
const waiters = charm.array(Waiter, 2);
await charm.awaitCreation(waiters);`);
    await run("waiters.at(1).waitThenPrint();");
    // Cell B resolves what A's call awaits; the line printed after the await is A's.
    const b = await run(`waiters.at(1).open(); await charm.waitQD(); "quiet"`);
    expect(value(b.result)).toBe("'quiet'");
    expect(b.stdout).toMatch(/^\[from cell-\d+\.ts\] \[PE 1\] printed after await\n$/m);
  });

  it("importing \"charm4ts\" in a cell gives the kernel's own runtime, from any folder; charts are globals too", async () => {
    const { result } = await run(`import { charm as imported, barChart as bars } from "charm4ts";
[imported === charm, bars === barChart, typeof lineChart]`);
    expect(value(result)).toBe("[ true, true, 'function' ]");
  });

  it("shows the runtime's status and proxies as rich displays", async () => {
    const status = (await run("await charm.status()")).result;
    expect(status.status === "ok" && status.value?.data["text/html"]).toContain("<table>");
    const proxy = (await run("workers")).result;
    expect(value(proxy)).toContain("Proxy<Worker> (array 4)");
  });

  // Last: the chare it leaves waiting would show among later tests' pending calls.
  it("says, when a chare waits at an await, that what it waits for may be outside charm4ts", async () => {
    await run("class Listener extends Chare { async listen() { const ch = new Channel<number>(this, this.thisProxy); return await ch.recv(); } }");
    const warned = new Promise<string>((resolve) => {
      void executor.execute("await charm.chare(Listener, []).listen.ret()", {
        output: (o: CellOutput) => { if (o.kind === "stream" && o.name === "stderr" && o.text.includes("no message is in flight")) resolve(o.text); },
        input: async () => "",
      });
    });
    expect(await warned).toMatch(/^charm4ts: this cell is waiting for \d+ futures? pending here, and no message is in flight anywhere; 1 entry method is suspended at an await\. If they wait for something outside charm4ts/);
    executor.interrupt();
    expect(value((await run("1 + 1")).result)).toBe("2");
  });
});
