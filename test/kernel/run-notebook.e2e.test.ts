// `node dist/run-notebook.js`: the headless runner as a user runs it (`npm start`).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateNotebook } from "../../kernel/runner/notebook.ts";
import { ROOT } from "./jupyter-env.ts";
import { tempDir } from "../temp-dir.ts";

const dir = tempDir("runner");

function run(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "dist/run-notebook.js"), ...args], { encoding: "utf8", timeout: 60_000 });
}

function notebook(sources: string[]): string {
  const path = join(dir, `nb-${Math.random().toString(36).slice(2)}.ipynb`);
  const cells = sources.map((source, i) => ({ id: `c${i}`, cell_type: "code", metadata: {}, source, outputs: [], execution_count: null }));
  writeFileSync(path, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells }));
  return path;
}

describe("run-notebook", () => {
  it("runs the demo, prints its outputs and writes a valid executed notebook", () => {
    const out = join(dir, "demo-executed.ipynb");
    const r = run(join(ROOT, "notebooks/demo.ipynb"), "--output", out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("hello from charm4ts");
    expect(r.stdout).toContain("All cells ran.");
    const executed: unknown = JSON.parse(readFileSync(out, "utf8"));
    validateNotebook(executed);
    expect(executed.cells.filter((c) => c.cell_type === "code").every((c) => (c.outputs ?? []).length > 0)).toBe(true);
  });

  it("the load-balancing and particle notebooks draw their charts, and balancing loses no particle", () => {
    for (const name of ["load-balancing.ipynb", "particles.ipynb"]) {
      const out = join(dir, `executed-${name}`);
      const r = run(join(ROOT, "notebooks", name), "--output", out);
      expect(r.status, r.stderr).toBe(0);
      const executed: any = JSON.parse(readFileSync(out, "utf8"));
      validateNotebook(executed);
      const charts: string[] = executed.cells.flatMap((c: any) => c.outputs ?? [])
        .map((o: any) => o.data?.["image/svg+xml"]).filter(Boolean).map((svg: string | string[]) => [svg].flat().join(""));
      // per-PE load (measured before, planned, measured after: 3 bars per PE) and time per step (2 lines)
      expect(charts.filter((svg) => (svg.match(/class="bar"/g) ?? []).length >= 6), name).toHaveLength(1);
      expect(charts.filter((svg) => (svg.match(/<polyline /g) ?? []).length === 2), name).toHaveLength(1);
      if (name !== "particles.ipynb") continue;
      const ends = [...r.stdout.matchAll(/(?:with|without) balancing: (\d+) particles at the end/g)].map((m) => Number(m[1]));
      expect(ends).toHaveLength(2);
      expect(ends[0]).toBe(ends[1]);
    }
  }, 120_000);

  it("the remote-PEs notebook compares threads with processes, loses a killed PE process, recovers, and leaves none running", () => {
    const out = join(dir, "executed-remote-pes.ipynb");
    const r = run(join(ROOT, "notebooks/remote-pes.ipynb"), "--output", out);
    expect(r.status, r.stderr).toBe(0);
    const executed: any = JSON.parse(readFileSync(out, "utf8"));
    validateNotebook(executed);
    const svgs: string[] = executed.cells.flatMap((c: any) => c.outputs ?? []).map((o: any) => o.data?.["image/svg+xml"]).filter(Boolean).map((svg: string | string[]) => [svg].flat().join(""));
    expect(svgs.filter((svg) => (svg.match(/class="bar"/g) ?? []).length === 4)).toHaveLength(1); // 2 costs × threads, processes
    expect(r.stdout).toMatch(/heap\s+process\n/); // charm.status() names each PE's process
    expect(r.stdout).not.toMatch(/nobody awaited|PE 1 was lost/); // the caught PeLostError is how the notebook heard of it
    expect(r.stdout).toContain("isPeLostError: true");
    expect(r.stdout).toContain("pe0Answers: 42");
    expect(r.stdout).toContain("processesLeft: 0");
    expect(r.stdout).toContain("mpirun -np 8 npx charmrun sum.ts");
  });

  it("stops at a failing cell, prints its traceback and exits 1", () => {
    const r = run(notebook(['console.log("before")', 'throw new RangeError("cell two failed")', 'console.log("never")']));
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("before");
    expect(r.stdout).toContain("RangeError: cell two failed");
    expect(r.stdout).not.toContain("never");
    expect(r.stderr).toContain("Cell 2 failed.");
  });

  it("--allow-errors keeps going and still exits 1", () => {
    const r = run(notebook(['throw new Error("first")', 'console.log("still ran")']), "--allow-errors");
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("still ran");
  });

  it("refuses a notebook that is not valid nbformat 4, naming the problem", () => {
    const path = join(dir, "bad.ipynb");
    writeFileSync(path, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code" }] }));
    const r = run(path);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not a valid nbformat 4 notebook/);
  });

  it("input() fails at once instead of waiting for a user", () => {
    const r = run(notebook(['await input("name? ")']));
    expect(r.status).toBe(1);
  });
});
