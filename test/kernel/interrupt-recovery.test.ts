import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CellExecutor } from "../../kernel/cells/executor.ts";
import type { CellOutput, CellResult } from "../../kernel/cells/protocol.ts";
import { within } from "../runtime/within.ts";
import { tempDir } from "../temp-dir.ts";

// Interrupting a cell whose PE is stuck in an endless loop: what the user is told, where, and
// what later cells get (issue 12, item 3).
let executor: CellExecutor;
let count = 0;
const late: CellOutput[] = [];

interface Ran { result: CellResult; stderr: string; outputs: CellOutput[] }

/** Runs a cell; with `interruptOn`, interrupts it once it printed that text. */
function run(code: string, interruptOn?: string): Promise<Ran> {
  const outputs: CellOutput[] = [];
  const cell = executor.execute(code, {
    output: (o) => {
      outputs.push(o);
      if (interruptOn && o.kind === "stream" && o.text.includes(interruptOn)) executor.interrupt();
    },
    input: async () => "",
  }, { name: `cell-${++count}.ts` });
  const ran = cell.then((result) => ({ result, outputs, stderr: outputs.map((o) => (o.kind === "stream" && o.name === "stderr" ? o.text : "")).join("") }));
  return within(ran, 20_000, `cell ${count} (${code.split("\n").at(-1)})`);
}
const shown = (r: CellResult) => (r.status === "ok" ? r.value?.data["text/plain"] : `${r.ename}: ${r.evalue}`);

describe("interrupting a cell whose PE is stuck", () => {
  beforeAll(async () => {
    process.env.CHARM4TS_PES = "2";
    executor = await CellExecutor.start({ cwd: tempDir("cells"), typeCheck: false });
    executor.onLateOutput = (o) => late.push(o);
    await run("class Spin extends Chare { spin(): number { for (;;) {} } ping() { return 'pong'; } }");
  });
  afterAll(() => executor.close());

  it("reports the lost chares in the interrupted cell, before its reply, per collection and once", async () => {
    const spun = await run('const s3 = charm.array(Spin, 4);\nconsole.log("spinning");\nawait s3.at(2).spin.ret()', "spinning");
    expect(shown(spun.result)).toMatch(/^Interrupted: .*Interrupted while waiting for: Spin\[2\]\.spin\.$/);
    // PE 1 (elements 2 and 3 of 4 on 2 PEs) was restarted: said in this cell, naming the array.
    expect(spun.stderr).toContain("PE 1 did not answer within 1000 ms");
    expect(spun.stderr).toMatch(/Spin array of 4, made in cell-\d+\.ts: Spin\[2\], Spin\[3\]\n/);
    expect(spun.stderr.match(/Spin\[2\]/g)).toHaveLength(1);
    expect(late).toEqual([]);
  });

  it("a call to a lost chare right after the interrupt fails with PeLostError, never as undefined", async () => {
    const ping = await run("await s3.at(2).ping.ret()");
    expect(shown(ping.result)).toMatch(/^PeLostError: PE 1 was restarted/);
    expect(shown((await run("await s3.at(1).ping.ret()")).result)).toBe("'pong'");
  });

  it("a refused call isn't listed as still running at the next interrupt", async () => {
    expect(shown((await run("await s3.at(3).ping.ret()")).result)).toMatch(/^PeLostError/);
    const waiting = await run('console.log("waiting");\nawait new Promise(() => {})', "waiting");
    expect(shown(waiting.result)).toMatch(/^Interrupted: stopped waiting/);
    expect(shown(waiting.result)).not.toMatch(/Still running/);
  });

  it("a second restart names only what it lost, not the earlier restart's losses again", async () => {
    const again = await run('const s4 = charm.array(Spin, 4);\nconsole.log("spinning again");\nawait s4.at(3).spin.ret()', "spinning again");
    expect(again.stderr).toMatch(/Spin array of 4, made in cell-\d+\.ts: Spin\[2\], Spin\[3\]\n/);
    // s3's elements on PE 1 were lost by the first restart and aren't named again.
    expect(again.stderr.match(/Spin\[2\]/g)).toHaveLength(1);
    expect(late).toEqual([]);
  });

  it("a cell's error is never undefined when an interrupted cell's await settles at the same moment", async () => {
    await run("let failFirst: (e: Error) => void;\nconst first = new Promise((_, reject) => (failFirst = reject));");
    await run('console.log("awaiting");\nawait first', "awaiting");
    // Both awaits settle in one turn: the abandoned cell's and this one's.
    const second = await run('failFirst(new Error("first"));\nawait Promise.reject(new Error("second"))');
    expect(shown(second.result)).toBe("Error: second");
  });

  it("a cell over its // @timeout while a PE spins: the notice, then which PE was restarted and what it lost", async () => {
    const timed = await run('// @timeout 1s\nconst s5 = charm.array(Spin, 2);\nawait s5.at(1).spin.ret()');
    expect(shown(timed.result)).toMatch(/^Interrupted: .*Spin\[1\]\.spin/);
    expect(timed.stderr).toContain("The cell reached its time limit of 1 s and was interrupted");
    expect(timed.stderr).toContain("PE 1 did not answer within 1000 ms");
    expect(timed.stderr).toMatch(/Spin array of 2, made in cell-\d+\.ts: Spin\[1\]\n/);
    expect(timed.stderr.indexOf("time limit")).toBeLessThan(timed.stderr.indexOf("PE 1 did not answer"));
    expect(shown((await run("await charm.array(Spin, 2).at(1).ping.ret()")).result)).toBe("'pong'");
    expect(late).toEqual([]);
  });

  it("a pool map stuck on a PE: the report names charm.pool's own worker (not a group the user made), and the next cell's map works", async () => {
    await run("function spinOnPe1(x: number): number { if (charm.myPe() === 1) for (;;); return x; }\nfunction twice(x: number): number { return 2 * x; }");
    // With chunks of one, item i goes to PE i mod 2.
    const stuck = await run('console.log("mapping");\nawait charm.pool.map(spinOnPe1, [0, 1, 2, 3], { chunkSize: 1 })', "mapping");
    expect(shown(stuck.result)).toMatch(/^Interrupted: /);
    expect(stuck.stderr).toContain("PE 1 did not answer within 1000 ms");
    expect(stuck.stderr).toMatch(/^ {2}charm\.pool's own worker PoolWorker\[1\] \(the next charm\.pool call makes a new one\)$/m);
    expect(stuck.stderr).not.toMatch(/PoolWorker group/);
    expect(shown((await run("await charm.pool.map(twice, [1, 2, 3, 4], { chunkSize: 1 })")).result)).toBe("[ 2, 4, 6, 8 ]");
    expect(late).toEqual([]);
  });

  it("a pool map stuck on another PE after that: charm.pool's worker is named once (the pool's earlier group had one there too)", async () => {
    await run("function spinOnPe0(x: number): number { if (charm.myPe() === 0) for (;;); return x; }");
    const stuck = await run('console.log("mapping on 0");\nawait charm.pool.map(spinOnPe0, [0, 1], { chunkSize: 1 })', "mapping on 0");
    expect(stuck.stderr).toContain("PE 0 did not answer within 1000 ms");
    expect(stuck.stderr.match(/charm\.pool's own worker PoolWorker\[0\]/g)).toHaveLength(1);
    expect(shown((await run("await charm.pool.map(twice, [1, 2, 3, 4], { chunkSize: 1 })")).result)).toBe("[ 2, 4, 6, 8 ]");
    expect(late).toEqual([]);
  });
});
