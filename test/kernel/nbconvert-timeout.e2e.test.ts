// Graders' time limits through Jupyter's own executor: nbconvert/nbclient's
// ExecutePreprocessor.timeout on a cell stuck in a loop — in the cell itself, or on a PE.
// With interrupt_on_timeout the kernel is interrupted and stays usable (for the rest of the
// notebook, and for the next notebook on the same kernel); without it nbconvert gives up and
// shuts the kernel down, and no PE process is left spinning.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jupyterEnv, nbconvertExecute, PYTHON, writeNotebook, type JupyterEnv } from "./jupyter-env.ts";
import { describeWith } from "../system-tools.ts";
import { bounded } from "../bounded.ts";
import { gone } from "../runtime/alive.ts";

/** Seconds: generous, as a first cell on a loaded machine (TypeScript loading, PEs starting) has taken 18 s. */
const TIMEOUT_S = 40;
const SPIN_CLASS = "class Spin extends Chare { spin(): number { for (;;) {} } ping(): number { return charm.myPe(); } }\nconst spins = charm.array(Spin, 2);";

let je: JupyterEnv;
beforeAll(() => {
  je = jupyterEnv();
});
afterAll(() => je?.cleanup());

interface CellOutputs { text: string; errors: string[] }

function executedCells(path: string): CellOutputs[] {
  const nb = JSON.parse(readFileSync(path, "utf8")) as { cells: Array<{ outputs?: Array<{ output_type: string; text?: string | string[]; ename?: string }> }> };
  return nb.cells.map((c) => ({
    text: (c.outputs ?? []).filter((o) => o.output_type === "stream").map((o) => [o.text ?? ""].flat().join("")).join(""),
    errors: (c.outputs ?? []).filter((o) => o.output_type === "error").map((o) => o.ename!),
  }));
}

describeWith("nbconvert")("ExecutePreprocessor.timeout on a stuck cell", () => {
  it.concurrent("with interrupt_on_timeout: both stuck cells are interrupted, the PE is restarted, and the notebook's last cell runs", async () => {
    const work = join(je.dir, "work");
    const notebook = writeNotebook(join(work, "stuck.ipynb"), [
      SPIN_CLASS,
      "console.log('spinning in the cell');\nfor (;;) {}",
      "console.log('spinning on PE 1');\nawait spins.at(1).spin.ret()",
      "console.log('after:', await spins.at(0).ping.ret(), await charm.array(Spin, 2).at(1).ping.ret());",
    ]);
    const out = join(work, "stuck.out.ipynb");
    const r = await bounded(nbconvertExecute(je, notebook, out, {
      env: { CHARM4TS_PES: "2" },
      args: [`--ExecutePreprocessor.timeout=${TIMEOUT_S}`, "--ExecutePreprocessor.interrupt_on_timeout=True", "--allow-errors"],
    }), 300_000, "nbconvert with interrupt_on_timeout");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.match(/Timeout waiting for execute reply/g)).toHaveLength(2);
    const cells = executedCells(out);
    expect(cells[1]!.errors).toEqual(["Interrupted"]);
    expect(cells[2]!.errors).toEqual(["Interrupted"]);
    // The interrupt said which PE it restarted, in the cell whose work was stuck there.
    expect(cells[2]!.text).toContain("PE 1 did not answer");
    expect(cells[3]!.errors).toEqual([]);
    expect(cells[3]!.text).toBe("after: 0 1\n");
  }, 360_000);

  it.concurrent("the next notebook runs on the same kernel after nbclient interrupted a stuck one (jupyter_client's KernelManager)", async () => {
    const r = spawnSync(PYTHON, ["nbclient_timeout.py", String(TIMEOUT_S)], { cwd: import.meta.dirname, env: { ...je.env, CHARM4TS_PES: "2" }, encoding: "utf8", timeout: 300_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { stuck: CellOutputs[]; following: CellOutputs[]; alive: boolean };
    expect(report.stuck.map((c) => c.errors)).toEqual([[], ["Interrupted"], ["Interrupted"]]);
    expect(report.stuck[2]!.text).toContain("PE 1 did not answer");
    expect(report.following).toEqual([{ text: "hi from PE 0 / hi from PE 1\n", errors: [] }]);
    expect(report.alive).toBe(true);
  }, 360_000);

  it.concurrent("without interrupt_on_timeout: nbconvert fails naming the timeout, and shutting the busy kernel down ends its PE processes", async () => {
    const work = join(je.dir, "work");
    const pidsFile = join(work, "pids.json");
    const notebook = writeNotebook(join(work, "stuck-processes.ipynb"), [
      SPIN_CLASS,
      `const { writeFileSync } = await import("node:fs");\nconst status = await charm.status();\nwriteFileSync(${JSON.stringify(pidsFile)}, JSON.stringify([process.pid, ...status.pes.map((p) => p.pid)]));`,
      // The cell itself is stuck (a stuck PE process is found by the runtime's heartbeat first, and
      // the cell fails with PeLostError before any timeout): the PE processes are alive and idle.
      "for (;;) {}",
    ]);
    const r = await bounded(nbconvertExecute(je, notebook, join(work, "stuck-processes.out.ipynb"), {
      env: { CHARM4TS_PES: "2", CHARM4TS_TRANSPORT: "processes" },
      args: [`--ExecutePreprocessor.timeout=${TIMEOUT_S}`],
    }), 300_000, "nbconvert without interrupt_on_timeout");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("CellTimeoutError");
    const [kernel, ...pes] = JSON.parse(readFileSync(pidsFile, "utf8")) as number[];
    expect(pes).toHaveLength(2);
    expect(pes).not.toContain(kernel);
    expect([kernel, ...pes].filter((pid) => !gone(pid!)), "processes left running").toEqual([]);
  }, 360_000);
});
