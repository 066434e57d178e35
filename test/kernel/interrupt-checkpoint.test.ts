import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CellExecutor } from "../../kernel/cells/executor.ts";
import type { CellOutput, CellResult } from "../../kernel/cells/protocol.ts";
import { within } from "../runtime/within.ts";
import { tempDir } from "../temp-dir.ts";

// Interrupting a cell (the stop button, or its `// @timeout`) while charm.checkpoint is saving:
// the interrupt's check that every PE answers within 1 s found each PE busy in the save step
// (saving an element that holds a Map of 6 M entries keeps its thread over 1 s) and restarted it as if stuck
// in an endless loop — so the chares being saved were lost, the checkpoint failed, and the same
// output said "all state is kept". A PE busy with the runtime's own checkpoint step is not stuck.
let executor: CellExecutor;
let count = 0;

interface Ran { result: CellResult; stderr: string }

/** Runs a cell; with `interruptAfterMs`, interrupts it that long after it printed "saving". */
function run(code: string, interruptAfterMs?: number): Promise<Ran> {
  let stderr = "";
  const cell = executor.execute(code, {
    output: (o: CellOutput) => {
      if (o.kind !== "stream") return;
      if (o.name === "stderr") stderr += o.text;
      if (interruptAfterMs !== undefined && o.text.includes("saving")) setTimeout(() => executor.interrupt(), interruptAfterMs);
    },
    input: async () => "",
  }, { name: `cell-${++count}.ts` });
  return within(cell.then((result) => ({ result, stderr })), 60_000, `cell ${count} (${code.split("\n").at(-1)})`);
}
const shown = (r: CellResult) => (r.status === "ok" ? r.value?.data["text/plain"] : `${r.ename}: ${r.evalue}`);

describe("interrupting a cell while charm.checkpoint saves", () => {
  let dir: string;
  beforeAll(async () => {
    process.env.CHARM4TS_PES = "2";
    dir = tempDir("ckpt-interrupt");
    executor = await CellExecutor.start({ cwd: tempDir("cells"), typeCheck: false });
    // One element per PE, each a Map large enough that saving it keeps its PE busy for seconds.
    await run("class Fat extends Chare {\n  m = new Map<number, string>();\n  fill(k: number) { for (let i = 0; i < k; i++) this.m.set(i, 'v' + i); }\n  size() { return this.m.size; }\n}");
    expect(shown((await run("const fat = charm.array(Fat, 2);\nawait fat.fill.awaitable(6_000_000);\nawait fat.size.ret()")).result)).toBe("[ 6000000, 6000000 ]");
  }, 120_000);
  afterAll(() => executor.close());

  it("keeps the chares being saved: no PE is restarted as stuck, and they answer after", async () => {
    const saved = await run(`console.log("saving");\nawait charm.checkpoint(${JSON.stringify(dir)}, { fat })`, 1000);
    expect(shown(saved.result)).toMatch(/^Interrupted: /);
    expect(saved.stderr).not.toMatch(/did not answer within/);
    expect(shown((await run("await fat.size.ret()")).result)).toBe("[ 6000000, 6000000 ]");
  }, 120_000);
});
