import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CellExecutor } from "../../kernel/cells/executor.ts";
import type { CellOutput } from "../../kernel/cells/protocol.ts";
import { within } from "../runtime/within.ts";
import { tempDir } from "../temp-dir.ts";

// A PE's error after its entry method returned shows in the cell that is running, and the PE
// lives on for the next cells (issue 16, item 3).
let executor: CellExecutor;
async function run(code: string): Promise<{ value: unknown; stderr: string }> {
  let stderr = "";
  const result = await executor.execute(code, {
    output: (o: CellOutput) => { if (o.kind === "stream" && o.name === "stderr") stderr += o.text; },
    input: async () => "",
  });
  return { value: result.status === "ok" ? result.value?.data["text/plain"] : `${result.ename}: ${result.evalue}`, stderr };
}

describe("an error on a PE outside any entry method, in a notebook", () => {
  beforeAll(async () => {
    process.env.CHARM4TS_PES = "3";
    executor = await CellExecutor.start({ cwd: tempDir("cells") });
  });
  afterAll(() => executor.close());

  it("is shown in the running cell; the PE and its chare carry on", async () => {
    await run(`
class Late extends Chare {
  n = 0;
  bump() { return ++this.n; }
  // Timers run in order, and a PE's messages arrive in order: the report comes before the value.
  later(done) { setTimeout(() => { throw null; }, 0); setTimeout(() => done.send(1), 0); }
}
const late = charm.array(Late, 3);`);
    const cell = run(`await late.at(2).bump.ret(); const done = new Future(); late.at(2).later(done); await done; await late.at(2).bump.ret()`);
    const { value, stderr } = await within(cell, 10_000, "the cell whose chare throws from a timer, then is called again");
    expect(stderr).toContain("uncaught outside any entry method (a timer or callback): threw null (raised on PE 2)");
    expect(value).toBe("2");
  });
});
