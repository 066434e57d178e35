// Every notebook in notebooks/ runs through Jupyter's own executor (nbconvert → nbclient →
// jupyter_client) with the installed kernelspec, and fails on any error output.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { validateNotebook } from "../../kernel/runner/notebook.ts";
import { jupyterEnv, PYTHON, ROOT, type JupyterEnv } from "./jupyter-env.ts";
import { describeWith } from "../system-tools.ts";

const notebooks = readdirSync(join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb"));
let je: JupyterEnv;

beforeAll(() => {
  je = jupyterEnv();
});
afterAll(() => je?.cleanup());

describeWith("nbconvert")("jupyter nbconvert --execute", () => {
  it("finds notebooks to run", () => {
    expect(notebooks.length).toBeGreaterThan(0);
  });

  it.each(notebooks)("%s runs without an error output", (name) => {
    const out = join(je.dir, "work");
    const r = spawnSync(
      PYTHON,
      ["-m", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=charm4ts",
        "--ExecutePreprocessor.timeout=120", "--output-dir", out, join(ROOT, "notebooks", name)],
      // The steering notebook's run lasts 30 s unless told otherwise; nobody steers it here.
      { env: { ...je.env, STEERING_SECONDS: "5" }, encoding: "utf8", cwd: join(ROOT, "notebooks") },
    );
    expect(r.status, r.stderr).toBe(0);
    const executed: unknown = JSON.parse(readFileSync(join(out, name), "utf8"));
    validateNotebook(executed, name);
    const outputs = executed.cells.flatMap((c) => c.outputs ?? []);
    expect(outputs.filter((o) => o.output_type === "error")).toEqual([]);
    // Nor a type error: a shipped notebook's own code type-checks (channels.ipynb's iwait cell didn't).
    const stderr = outputs.map((o) => o as { output_type: string; name?: string; text?: string | string[] })
      .filter((o) => o.output_type === "stream" && o.name === "stderr").map((o) => [o.text ?? ""].flat().join(""));
    expect(stderr.filter((t) => t.startsWith("TypeScript"))).toEqual([]);
    // Every code cell ran, in order.
    const counts = executed.cells.filter((c) => c.cell_type === "code").map((c) => c.execution_count);
    expect(counts).toEqual(counts.map((_, i) => i + 1));
    if (name === "steering.ipynb") {
      // nbclient keeps the widgets' last state in the notebook, so JupyterLab shows them on opening it.
      const saved = (executed as { metadata: { widgets?: Record<string, { version_major: number; state: Record<string, { model_name: string; state: Record<string, unknown> }> }> } })
        .metadata.widgets?.["application/vnd.jupyter.widget-state+json"];
      expect(saved?.version_major).toBe(2);
      const models = Object.values(saved!.state);
      expect(models.map((m) => m.model_name)).toEqual(expect.arrayContaining(["FloatSliderModel", "ButtonModel", "HBoxModel"]));
      expect(models.find((m) => m.model_name === "FloatSliderModel")!.state).toMatchObject({ description: "speed", _model_module: "@jupyter-widgets/controls" });
    }
  }, 180_000);
});

describeWith("nbconvert")("a traceback through nbconvert", () => {
  it("keeps ipykernel's ANSI colours in the executed notebook; its text exports show the user's frames plainly", () => {
    const work = join(je.dir, "work");
    const cells = [
      "class Thrower extends Chare {\n  boom(): number {\n    throw new RangeError('kaboom');\n  }\n}",
      "const throwers = charm.array(Thrower, 2);\nawait throwers.at(1).boom.ret()",
    ];
    const notebook = {
      cells: cells.map((source) => ({ cell_type: "code", metadata: {}, source, outputs: [], execution_count: null })),
      metadata: { kernelspec: { name: "charm4ts", display_name: "TypeScript (charm4ts)", language: "typescript" } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    writeFileSync(join(work, "traceback.ipynb"), JSON.stringify(notebook));
    const nbconvert = (...args: string[]) => spawnSync(PYTHON, ["-m", "nbconvert", ...args], { env: { ...je.env, CHARM4TS_PES: "2" }, encoding: "utf8", cwd: work, timeout: 120_000 });
    const run = nbconvert("--to", "notebook", "--execute", "--allow-errors", "--ExecutePreprocessor.kernel_name=charm4ts", "--output", "traceback.out.ipynb", "traceback.ipynb");
    expect(run.status, run.stderr).toBe(0);
    const executed = JSON.parse(readFileSync(join(work, "traceback.out.ipynb"), "utf8"));
    const error = executed.cells[1].outputs.find((o: { output_type: string }) => o.output_type === "error");
    expect(error.traceback[0]).toBe("\u001b[0;31mRemoteError\u001b[0m: RangeError: kaboom (raised on PE 1 in Thrower[1].boom)");
    expect(error.evalue).toBe("RangeError: kaboom (raised on PE 1 in Thrower[1].boom)");
    const markdown = nbconvert("--to", "markdown", "--stdout", "traceback.out.ipynb");
    expect(markdown.status, markdown.stderr).toBe(0);
    expect(markdown.stdout).not.toContain("\u001b");
    expect(markdown.stdout).toContain("at Thrower.boom (cell-1.ts:3:11)");
    expect(markdown.stdout).toContain("at async cell-2.ts:2:1");
    expect(markdown.stdout).not.toMatch(/dist\/|node:/);
  }, 180_000);
});
