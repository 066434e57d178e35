import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CellExecutor } from "../../kernel/cells/executor.ts";
import type { CellOutput, CellResult } from "../../kernel/cells/protocol.ts";
import { DEFAULT_BURST_KB, DEFAULT_RATE_KB } from "../../kernel/cells/worker/stream-limit.ts";
import { tempDir } from "../temp-dir.ts";

// Output floods, through the executor: what reaches the kernel's thread is bounded by the
// per-cell limit (a burst, then a rate), the rest is summarised, and PE output is kept per PE.
let executor: CellExecutor;
async function run(code: string): Promise<{ result: CellResult; stdout: string; stderr: string; ms: number }> {
  let stdout = "";
  let stderr = "";
  const started = performance.now();
  const result = await executor.execute(code, {
    output: (o: CellOutput) => {
      if (o.kind === "stream") o.name === "stdout" ? (stdout += o.text) : (stderr += o.text);
    },
    input: async () => "",
  });
  return { result, stdout, stderr, ms: performance.now() - started };
}
const value = (r: CellResult) => (r.status === "ok" ? r.value?.data["text/plain"] : `${r.ename}: ${r.evalue}`);
/** The most a cell lasting `ms` may show: the burst, the rate over its time, and the summaries (a few kB). */
const bound = (ms: number) => DEFAULT_BURST_KB * 1024 + (DEFAULT_RATE_KB * 1024 * ms) / 1000 + 16 * 1024;

describe("a cell whose PEs print as fast as they can", () => {
  beforeAll(async () => {
    process.env.CHARM4TS_PES = "2";
    executor = await CellExecutor.start({ cwd: tempDir("flood"), typeCheck: false });
  });
  afterAll(() => executor.close());

  it("shows a burst and then the rate, summarises the rest per PE, and keeps each PE's last lines", async () => {
    const flood = await run(`
class Flood extends Chare {
  spin(ms) {
    const start = Date.now();
    let n = 0;
    while (Date.now() - start < ms) console.log("flood line", n++, "from", this.thisIndex[0]);
    return n;
  }
}
const floods = charm.array(Flood, 2);
await floods.spin.ret(3000);`);
    expect(flood.result.status).toBe("ok");
    const printed = eval(String(value(flood.result))) as number[];
    const shown = Buffer.byteLength(flood.stdout) + Buffer.byteLength(flood.stderr);
    console.info(`PE flood: ${printed.join(" + ")} lines printed in ${Math.round(flood.ms)} ms, ${shown} bytes shown`);
    expect(printed[0]).toBeGreaterThan(10_000);
    expect(shown).toBeLessThan(bound(flood.ms));
    // Lines the cell thread takes after the cell's reply (it shares the cores with two spinning
    // PEs) count as after the cell; a reply from each PE comes after all it printed before.
    const last = await run("await Promise.all([floods.at(0).spin.ret(0), floods.at(1).spin.ret(0)]);\nJSON.stringify(charm.output(1, 3))");
    // Every line a PE printed was shown or counted (by the PE that held it back, or the cell thread).
    // How much each PE gets through depends on the machine's load; the total never does.
    for (const pe of [0, 1]) {
      const shownLines = flood.stdout.split("\n").filter((line) => line.endsWith(` from ${pe}`)).length;
      const totals = [...(flood.stderr + last.stderr).matchAll(new RegExp(`… ([\\d,]+) lines? \\([\\d.]+ k?M?B\\) from PE ${pe} not shown (in this cell|after it ended); charm.output\\(${pe}\\)`, "g"))];
      const dropped = totals.reduce((sum, m) => sum + Number(m[1]!.replaceAll(",", "")), 0);
      expect(shownLines + dropped, `PE ${pe}: ${shownLines} shown, ${dropped} dropped`).toBe(printed[pe]);
    }
    expect(flood.stderr).toMatch(/… [\d,]+ lines \([\d.]+ [kM]B\) from PE \d not shown in this cell; charm.output\(\d\) returns its last lines/);
    expect(JSON.parse(eval(String(value(last.result))) as string)).toEqual([3, 2, 1].map((k) => `flood line ${printed[1]! - k} from 1`));
    expect(value((await run("charm.output(0).length")).result)).toBe("10000");
  });

  it("limits the cell's own printing the same way", async () => {
    const flood = await run(`
const start = Date.now();
let n = 0;
while (Date.now() - start < 3000) console.log("cell line", n++);
n`);
    const printed = Number(value(flood.result));
    const shown = Buffer.byteLength(flood.stdout) + Buffer.byteLength(flood.stderr);
    console.info(`cell flood: ${printed} lines printed in ${Math.round(flood.ms)} ms, ${shown} bytes shown`);
    expect(shown).toBeLessThan(bound(flood.ms));
    const dropped = /… ([\d,]+) lines \([\d.]+ [kM]B\) printed by the cell not shown in this cell/.exec(flood.stderr);
    expect(dropped).not.toBeNull();
    expect(Number(dropped![1]!.replaceAll(",", "")) + flood.stdout.split("\n").length - 1).toBe(printed);
  });

  it("a cell after a flood runs normally, its output complete", async () => {
    const after = await run(`
class Quiet extends Chare { hello() { console.log("quiet", this.thisIndex[0]); } }
await charm.array(Quiet, 4).hello.awaitable();
for (let i = 0; i < 100; i++) console.log("line", i);`);
    expect(after.result.status).toBe("ok");
    expect(after.stderr).toBe("");
    for (let i = 0; i < 4; i++) expect(after.stdout).toContain(`quiet ${i}`);
    expect(after.stdout.match(/^line \d+$/gm)).toHaveLength(100);
  });
});
