import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readdirSync, watch } from "node:fs";
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

/** Runs a cell; given `interruptWhen`, interrupts it once that resolves, or once the cell prints that text. */
function run(code: string, interruptWhen?: Promise<unknown> | string): Promise<Ran> {
  let stderr = "";
  const cell = executor.execute(code, {
    output: (o: CellOutput) => {
      if (o.kind !== "stream") return;
      if (o.name === "stderr") stderr += o.text;
      if (typeof interruptWhen === "string" && o.text.includes(interruptWhen)) executor.interrupt();
    },
    input: async () => "",
  }, { name: `cell-${++count}.ts` });
  if (typeof interruptWhen === "object") void interruptWhen.then(() => executor.interrupt());
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

  it("keeps the chares being saved: no PE is restarted as stuck, they answer after, and the checkpoint is dropped (not finished in the background)", async () => {
    // Once a PE has opened its file, it is saving (seconds of it, for these elements).
    const saving = new Promise<void>((resolve) => {
      const watcher = watch(dir, (_event, name) => {
        if (name?.includes(".tmp-")) { watcher.close(); resolve(); }
      });
    });
    const saved = await run(`await charm.checkpoint(${JSON.stringify(dir)}, { fat })`, within(saving, 30_000, "a PE to open its checkpoint file"));
    expect(shown(saved.result)).toMatch(/^Interrupted: /);
    expect(saved.stderr).not.toMatch(/did not answer within/);
    expect(shown((await run("await fat.size.ret()")).result)).toBe("[ 6000000, 6000000 ]");
    // The save steps finish, and the checkpoint is dropped: no manifest, no file left.
    await run("await charm.waitQD()");
    expect(readdirSync(dir)).toEqual([]);
  }, 120_000);

  it("an interrupted restore restores nothing: it doesn't finish in the background", async () => {
    await run(`await charm.checkpoint(${JSON.stringify(dir)}, { fat })`);
    expect(readdirSync(dir)).toContain("manifest.json");
    const count = async () => Number(shown((await run("(await charm.status()).chares")).result));
    const before = await count();
    const interrupted = await run(`console.log("restoring");\nconst again = await charm.restore(${JSON.stringify(dir)})`, "restoring");
    expect(shown(interrupted.result)).toMatch(/^Interrupted: /);
    // A restore of the same directory takes its turn after the interrupted one is over: only its
    // own copies of the 2 Fat chares are new.
    expect(shown((await run(`const copy = await charm.restore(${JSON.stringify(dir)});\nawait copy.fat.size.ret()`)).result)).toBe("[ 6000000, 6000000 ]");
    expect(await count()).toBe(before + 2);
    expect(shown((await run("await fat.size.ret()")).result)).toBe("[ 6000000, 6000000 ]");
  }, 120_000);
});
