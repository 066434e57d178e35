// Comms through Debian's jupyter_client (test/kernel/comms_jupyter_client.py): a frontend's comm
// round trips with binary buffers while a 5 s cell runs, each reply before the cell's idle.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jupyterEnv, PYTHON, type JupyterEnv } from "./jupyter-env.ts";
import { describeWith } from "../system-tools.ts";

let je: JupyterEnv;
beforeAll(() => {
  je = jupyterEnv();
});
afterAll(() => je?.cleanup());

describeWith("jupyter_client")("comms through jupyter_client", () => {
  it("round-trips comm messages with buffers while a cell runs, and lists the comm", () => {
    const r = spawnSync(PYTHON, ["comms_jupyter_client.py"], {
      cwd: import.meta.dirname,
      env: je.env,
      encoding: "utf8",
      timeout: 110_000,
    });
    const report = `${r.stdout}\n${r.stderr}`;
    expect(r.status, report).toBe(0);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { ok: boolean; p50_ms: number };
    expect(result.ok).toBe(true);
  }, 120_000);
});
