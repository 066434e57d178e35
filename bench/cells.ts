/** Cell engine figures: executor start, trivial cell, transpile and completion, each beside a floor. */
import { Session } from "node:inspector";
import { tmpdir } from "node:os";
import { Worker } from "node:worker_threads";
import ts from "typescript";
import { CellExecutor } from "../kernel/cells/executor.ts";
import { transpileCell } from "../kernel/cells/worker/transpile.ts";
import { median, type Row } from "./row.ts";

const hooks = { output: () => {}, input: async () => "" };

/** Milliseconds from `new Worker` to its first message: the floor of any worker-based executor. */
async function bareWorkerMs(): Promise<number> {
  const t0 = performance.now();
  const worker = new Worker("require('node:worker_threads').parentPort.postMessage(0)", { eval: true });
  await new Promise((r) => worker.once("message", r));
  const ms = performance.now() - t0;
  await worker.terminate();
  return ms;
}

/** Median microseconds of a bare REPL-mode `Runtime.evaluate("1+1")` in this thread. */
async function bareEvaluateUs(reps: number): Promise<number> {
  const session = new Session();
  session.connect();
  const evaluate = () =>
    new Promise<void>((resolve) => session.post("Runtime.evaluate", { expression: "1+1", replMode: true, awaitPromise: true }, () => resolve()));
  for (let i = 0; i < 50; i++) await evaluate();
  const us = await median(reps, async () => {
    const t0 = performance.now();
    await evaluate();
    return (performance.now() - t0) * 1000;
  });
  session.disconnect();
  return us;
}

/** A typical 50-line cell: annotations, an interface, generics, a class. */
function fiftyLineCell(withEnum: boolean): string {
  const lines = ["interface Point { x: number; y: number }", withEnum ? "enum Kind { A, B }" : "type Kind = 0 | 1;"];
  for (let i = 0; lines.length < 48; i++) {
    lines.push(`function f${i}<T extends Point>(p: T, k: number): number {`, `  return p.x * k + p.y as number;`, `}`);
  }
  lines.push("class Acc { private total: number = 0; add(v: number): this { this.total += v; return this } }", "f0({ x: 1, y: 2 }, 3)");
  return lines.join("\n");
}

/** Runs the cell engine benchmarks. */
export async function cellBenchmarks(): Promise<Row[]> {
  const rows: Row[] = [];
  const cwd = tmpdir();
  await (await CellExecutor.start({ cwd })).close(); // builds the worker bundle once, outside the timing
  const workerMs = await median(3, bareWorkerMs);
  const startMs = await median(3, async () => {
    const t0 = performance.now();
    const executor = await CellExecutor.start({ cwd });
    const ms = performance.now() - t0;
    await executor.close();
    return ms;
  });
  rows.push({ name: "executor start (worker + TypeScript load)", value: startMs, unit: "ms", floor: { name: "bare worker start", value: workerMs, unit: "ms" } });

  const bare = await bareEvaluateUs(300);
  for (const typeCheck of [false, true]) {
    const executor = await CellExecutor.start({ cwd, typeCheck });
    // A new cell each time (`1+n`): a cell run again unchanged is answered from the checker's memory.
    let n = 0;
    for (let i = 0; i < 50; i++) await executor.execute(`1+${n++}`, hooks);
    const cellUs = await median(150, async () => {
      const t0 = performance.now();
      await executor.execute(`1+${n++}`, hooks);
      return (performance.now() - t0) * 1000;
    });
    const label = typeCheck ? "its type check before the reply (default)" : "type check off";
    rows.push({ name: `trivial new cell \`1+n\` execute p50, ${label}`, value: cellUs, unit: "µs", floor: { name: "bare Runtime.evaluate", value: bare, unit: "µs" }, target: typeCheck ? "≤ 30 ms added by the check, warm" : "≤ 3 ms kernel round trip" });
    await executor.close();
  }

  for (const withEnum of [false, true]) {
    const cell = fiftyLineCell(withEnum);
    for (let i = 0; i < 20; i++) transpileCell(cell, "cell-1.ts");
    const ms = await median(50, () => {
      const t0 = performance.now();
      transpileCell(cell, "cell-1.ts");
      return performance.now() - t0;
    });
    const parseMs = await median(50, () => {
      const t0 = performance.now();
      ts.createSourceFile("cell-1.ts", cell, ts.ScriptTarget.ES2022, true);
      return performance.now() - t0;
    });
    const path = withEnum ? "enum → full TypeScript emit" : "type erasure in place";
    rows.push({ name: `transpile 50-line cell (${path})`, value: ms, unit: "ms", floor: { name: "TypeScript parse only", value: parseMs, unit: "ms" } });
  }

  const executor = await CellExecutor.start({ cwd, typeCheck: false });
  const code = 'const s = "x"; s.toUp';
  let t0 = performance.now();
  await executor.complete(code, code.length);
  rows.push({ name: "first completion (starts the language process)", value: performance.now() - t0, unit: "ms" });
  const warm = await median(10, async () => {
    t0 = performance.now();
    await executor.complete(code, code.length);
    return performance.now() - t0;
  });
  rows.push({ name: "completion, warm", value: warm, unit: "ms" });
  await executor.close();
  return rows;
}
