// Comms through Debian's jupyter_client (test/kernel/comms_jupyter_client.py): a frontend's comm
// round trips with binary buffers while a 5 s cell runs, each reply before the cell's idle; and
// widgets (widgets_jupyter_client.py): slider moves reach a cell's onChange while a 10 s cell runs.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jupyterEnv, PYTHON, type JupyterEnv } from "./jupyter-env.ts";
import { describeWith } from "../system-tools.ts";

let je: JupyterEnv;
beforeAll(() => {
  je = jupyterEnv();
});
afterAll(() => je?.cleanup());

/** Runs one of the Python drivers; it prints a JSON line with `ok` last. */
function runDriver(script: string): { ok: boolean; p50_ms: number } {
  const r = spawnSync(PYTHON, [script], { cwd: import.meta.dirname, env: je.env, encoding: "utf8", timeout: 110_000 });
  const report = `${r.stdout}\n${r.stderr}`;
  expect(r.status, report).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { ok: boolean; p50_ms: number };
}

describeWith("jupyter_client")("comms through jupyter_client", () => {
  it("round-trips comm messages with buffers while a cell runs, and lists the comm", () => {
    expect(runDriver("comms_jupyter_client.py").ok).toBe(true);
  }, 120_000);

  it("delivers widget edits to a cell's onChange while a 10 s cell runs, its label update before the cell's idle", () => {
    const result = runDriver("widgets_jupyter_client.py");
    expect(result.ok).toBe(true);
    expect(result.p50_ms).toBeGreaterThan(0);
  }, 120_000);
});
