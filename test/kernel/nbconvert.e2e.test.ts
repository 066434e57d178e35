// Every notebook in notebooks/ runs through Jupyter's own executor (nbconvert → nbclient →
// jupyter_client) with the installed kernelspec, and fails on any error output.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateNotebook } from "../../kernel/runner/notebook.ts";
import { jupyterEnv, PYTHON, ROOT, type JupyterEnv } from "./jupyter-env.ts";

const notebooks = readdirSync(join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb"));
let je: JupyterEnv;

beforeAll(() => {
  je = jupyterEnv();
});
afterAll(() => je?.cleanup());

describe("jupyter nbconvert --execute", () => {
  it("finds notebooks to run", () => {
    expect(notebooks.length).toBeGreaterThan(0);
  });

  it.each(notebooks)("%s runs without an error output", (name) => {
    const out = join(je.dir, "work");
    const r = spawnSync(
      PYTHON,
      ["-m", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=charm4ts",
        "--ExecutePreprocessor.timeout=120", "--output-dir", out, join(ROOT, "notebooks", name)],
      { env: je.env, encoding: "utf8", cwd: join(ROOT, "notebooks") },
    );
    expect(r.status, r.stderr).toBe(0);
    const executed: unknown = JSON.parse(readFileSync(join(out, name), "utf8"));
    validateNotebook(executed, name);
    const outputs = executed.cells.flatMap((c) => c.outputs ?? []);
    expect(outputs.filter((o) => o.output_type === "error")).toEqual([]);
    // Every code cell ran, in order.
    const counts = executed.cells.filter((c) => c.cell_type === "code").map((c) => c.execution_count);
    expect(counts).toEqual(counts.map((_, i) => i + 1));
  }, 180_000);
});
