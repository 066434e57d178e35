// A class graded at once: wall time of 8 `jupyter nbconvert --execute` runs of the tour notebook
// started together, beside the same 8 run one after another (the floor: what running them at once
// must beat, or at least match, on this machine's cores). CLASSROOM_KERNELS=16 adds 16 at once.
import { existsSync, mkdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { jupyterEnv, nbconvertExecute, PYTHON, ROOT, type JupyterEnv } from "../test/kernel/jupyter-env.ts";
import type { Row } from "./row.ts";

const TOUR = join(ROOT, "notebooks", "tour.ipynb");

/** Runs `count` nbconverts of the tour, all at once or one after another; seconds of wall time. */
async function gradeTours(je: JupyterEnv, count: number, together: boolean): Promise<number> {
  const out = join(je.dir, "work", `${together ? "together" : "in-turn"}-${count}`);
  mkdirSync(out, { recursive: true });
  const run = (i: number) => nbconvertExecute(je, TOUR, join(out, `tour-${i}.ipynb`), { env: { CHARM4TS_PES: "2" }, args: ["--ExecutePreprocessor.timeout=600"] });
  const started = performance.now();
  const results = together ? await Promise.all(Array.from({ length: count }, (_, i) => run(i))) : [];
  for (let i = 0; !together && i < count; i++) results.push(await run(i));
  const failed = results.find((r) => r.status !== 0);
  if (failed) throw new Error(`nbconvert of the tour failed:\n${failed.stderr}`);
  return (performance.now() - started) / 1000;
}

/** The rows; none (said on stdout) where Debian's nbconvert is missing. */
export async function classroomBenchmarks(): Promise<Row[]> {
  const probe = existsSync(PYTHON) ? spawnSync(PYTHON, ["-c", "import nbconvert, nbclient"], { encoding: "utf8" }) : undefined;
  if (probe?.status !== 0) {
    console.log("(skipped: no nbconvert in /usr/bin/python3 — npm run setup-system installs it)");
    return [];
  }
  const je = jupyterEnv();
  try {
    const inTurn = await gradeTours(je, 8, false);
    const rows: Row[] = [{
      name: "8 nbconvert --execute of tour.ipynb at once, 2 PEs each: wall time",
      value: await gradeTours(je, 8, true),
      unit: "s",
      floor: { name: "the same 8 one after another", value: inTurn, unit: "s" },
      target: "≤ the floor",
    }];
    if (process.env.CLASSROOM_KERNELS === "16") {
      rows.push({
        name: "16 nbconvert --execute of tour.ipynb at once: wall time",
        value: await gradeTours(je, 16, true),
        unit: "s",
        floor: { name: "8 one after another, × 2", value: inTurn * 2, unit: "s" },
        target: "≤ the floor",
      });
    }
    return rows;
  } finally {
    je.cleanup();
  }
}
