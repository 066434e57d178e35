// notebooks/checkpoint.ipynb across a real kernel restart: one kernel runs the particles 100 steps
// and checkpoints them; that kernel shuts down; a new kernel on another number of PEs runs the
// definition cells again, restores, carries on to step 200 and finds every cell equal to an
// uninterrupted 200-step run (the notebook's comparing cell throws otherwise); its last cell removes
// the checkpoint from the temp folder.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { withTimeout, type Msg } from "../../kernel/runner/client.ts";
import { kernelScript, launchKernel, type LaunchedKernel } from "../../kernel/runner/launch.ts";
import { ROOT } from "./jupyter-env.ts";

const notebook = JSON.parse(readFileSync(join(ROOT, "notebooks/checkpoint.ipynb"), "utf8")) as { cells: Array<{ cell_type: string; source: string | string[] }> };
const code = notebook.cells.filter((c) => c.cell_type === "code").map((c) => [c.source].flat().join(""));
const kernels: LaunchedKernel[] = [];
afterEach(async () => {
  for (const k of kernels.splice(0)) await k.shutdown();
});

/** Runs one cell; returns its text outputs, failing with the error if it raised one. */
async function run(k: LaunchedKernel, source: string): Promise<string> {
  const x = await withTimeout(k.client.execute(source), 120_000, `the cell ${source.split("\n")[0]}`);
  const texts = x.iopub.flatMap((m: Msg) => {
    const c = m.content as any;
    if (m.header.msg_type === "error") throw new Error(`${c.ename}: ${c.evalue}\n${(c.traceback ?? []).join("\n")}`);
    if (m.header.msg_type === "stream") return [c.text as string];
    if (m.header.msg_type === "execute_result") return [String(c.data["text/plain"])];
    return [];
  });
  expect((x.reply.content as any).status).toBe("ok");
  return texts.join("");
}

describe("notebooks/checkpoint.ipynb with a kernel restart in the middle", () => {
  it("restores on another number of PEs after the restart and ends equal to an uninterrupted run", async () => {
    if (!existsSync(kernelScript())) throw new Error(`${kernelScript()} is missing: run \`npm run build\``);
    // Cells: 0 paths, 1 Cell class, 2 run to 100 + checkpoint, 3 runtime restart (not needed after a kernel restart), 4 restore + run to 200, 5 compare, 6 clean up.
    expect(code).toHaveLength(7);
    // Where cell 0 puts the checkpoint; removed here too when the test fails before cell 6.
    const checkpoint = join(tmpdir(), "charm4ts-checkpoint-notebook");
    onTestFinished(() => rmSync(checkpoint, { recursive: true, force: true }));
    const first = await launchKernel({ cwd: join(ROOT, "notebooks"), env: { ...process.env, CHARM4TS_PES: "2" } });
    kernels.push(first);
    await run(first, code[0]!);
    await run(first, code[1]!);
    expect(await run(first, code[2]!)).toMatch(/step 100 on 2 PEs: 1800 particles; saved 24 chares \(\d+ bytes\) in 2 files/);
    await first.shutdown();
    kernels.pop();

    const second = await launchKernel({ cwd: join(ROOT, "notebooks"), env: { ...process.env, CHARM4TS_PES: "3" } });
    kernels.push(second);
    await run(second, code[0]!);
    await run(second, code[1]!);
    expect(await run(second, code[4]!)).toMatch(/restored 24 cells on 3 PEs at step 100 and ran them to step 200: 1800 particles/);
    expect(await run(second, code[5]!)).toMatch(/restored and uninterrupted runs are equal: true \(1800 particles conserved\)/);
    expect(existsSync(checkpoint)).toBe(true);
    expect(await run(second, code[6]!)).toContain(`removed ${checkpoint}`);
    expect(existsSync(checkpoint)).toBe(false);
  }, 300_000);
});
