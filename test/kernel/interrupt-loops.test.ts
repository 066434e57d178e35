import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CellExecutor } from "../../kernel/cells/executor.ts";
import { cellRunner, shown } from "./cell-runner.ts";
import { tempDir } from "../temp-dir.ts";

// An interrupt abandons a cell that awaits; a loop in it went on in the background — stepping
// the chares under later cells, printing, feeding futures another loop fed. Now it stops where
// one of the cell's own awaits next resumes (kernel/cells/worker/resumed.ts).
let executor: CellExecutor;
const runCell = cellRunner(() => executor);
const run = async (code: string, interruptOn?: string) => (await runCell(code, interruptOn)).result;

describe("interrupting a cell that loops over awaits (3 PEs)", () => {
  beforeAll(async () => {
    process.env.CHARM4TS_PES = "3";
    executor = await CellExecutor.start({ cwd: tempDir("cells"), typeCheck: false });
    await run("class R extends Chare { n = 0; bump() { return ++this.n; } }\nconst r = charm.array(R, 3);\nlet k = 0, caught = '';");
  });
  afterAll(() => executor.close());

  it("a loop of calls to chares stops at its next call: nothing steps them after the interrupt", async () => {
    const looped = await run('for (let i = 0; ; i++) { await r.at(2).bump.ret(); if (i === 20) console.log("looping"); }', "looping");
    expect(shown(looped)).toMatch(/^Interrupted: stopped waiting/);
    // The abandoned loop's call in flight lands first (same sender, same PE); its next one throws.
    const after = await run("const a = await r.at(2).bump.ret();\nawait charm.waitQD();\n[a, await r.at(2).bump.ret()]");
    const [a, b] = JSON.parse(String(shown(after)).replace(/ /g, "")) as number[];
    expect(a).toBeGreaterThan(20);
    expect(b).toBe(a! + 1);
  });

  it("the loop that catches what its next call throws is told which cell was interrupted", async () => {
    await run('for (;;) { try { await r.at(1).bump.ret(); } catch (e) { caught = (e as Error).message; break; } k = 1; if (k) console.log("caught loop"); }', "caught loop");
    const told = await run("await charm.waitQD();\ncaught");
    expect(shown(told)).toMatch(/^'cell-\d+\.ts was interrupted: its code still running after the interrupt \(a loop around an await\) stops here'$/);
  });

  it("a loop that awaits timers or charm.sleep stops where it wakes: it runs no more", async () => {
    await run('k = 0;\nconsole.log("ticking");\nwhile (true) { k++; await new Promise((res) => setTimeout(res, 0)); }', "ticking");
    // Timers fire in deadline order: a live loop's 0 ms timers would run before this 50 ms one.
    expect(shown(await run("const k1 = k;\nawait new Promise((res) => setTimeout(res, 50));\nk - k1"))).toBe("0");
    await run('k = 0;\nconsole.log("sleeping");\nfor (;;) { k++; await charm.sleep(0.001); }', "sleeping");
    expect(shown(await run("const k2 = k;\nawait charm.sleep(0.05);\nk - k2"))).toBe("0");
  });

  it("later cells' loops, timers and sleeps run as ever", async () => {
    expect(shown(await run("let m = 0;\nfor (let i = 0; i < 5; i++) { await r.at(0).bump.ret(); await charm.sleep(0.001); await new Promise((res) => setTimeout(res, 1)); m++; }\nm"))).toBe("5");
  });
});
