// Debian's jupyter_kernel_test, through our subclass test/kernel/jkt_charm4ts.py: every test
// it has must run (none skipped) and pass.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jupyterEnv, PYTHON, type JupyterEnv } from "./jupyter-env.ts";
import { describeWith } from "../system-tools.ts";

let je: JupyterEnv;
beforeAll(() => {
  je = jupyterEnv();
});
afterAll(() => je?.cleanup());

describeWith("jupyter_kernel_test")("jupyter_kernel_test", () => {
  it("passes every test of jupyter_kernel_test.KernelTests", () => {
    const r = spawnSync(PYTHON, ["-m", "unittest", "-v", "jkt_charm4ts"], {
      cwd: import.meta.dirname,
      env: je.env,
      encoding: "utf8",
      timeout: 170_000,
    });
    const report = r.stderr;
    expect(report, report).toMatch(/\nOK\b/);
    expect(r.status, report).toBe(0);
    const ran = [...report.matchAll(/^(test_\w+) .*\.\.\. (\w+)/gm)].map(([, name, verdict]) => `${name} ${verdict}`);
    expect(ran).toEqual([
      "test_clear_output ok",
      "test_completion ok",
      "test_display_data ok",
      "test_error ok",
      "test_execute_result ok",
      "test_execute_stderr ok",
      "test_execute_stdout ok",
      "test_history ok",
      "test_inspect ok",
      "test_is_complete ok",
      "test_kernel_info ok",
      "test_pager ok",
    ]);
  }, 180_000);
});
