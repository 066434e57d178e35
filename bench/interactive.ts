// The runtime inside the kernel (issue 4's figures): start-up with PEs ready, a cell that calls
// one chare, and broadcast + reduction from a cell against the same from a script, same run.
import type { Exchange } from "../kernel/runner/client.ts";
import { launchKernel } from "../kernel/runner/launch.ts";
import { firstReplyMs, nodeStartMs } from "./kernel.ts";
import { charm, Future } from "../runtime/index.ts";
import { Summer } from "./chares.ts";
import { medianOf, type Row } from "./row.ts";

const REDUCTIONS = 200;
// Both sides discard one warm-up repetition (V8 compiling the loop and the runtime's paths), then
// take the median of the rest: a first repetition here is ~2× a warm one. The two sides take
// turns, repetition by repetition, so a slow stretch of this VM falls on both alike.
const REPETITIONS = 7;

/** Seconds from spawning the kernel to the reply of a first cell that needs the PEs. */
async function startWithPes(): Promise<number> {
  const code = "charm.numPes()";
  const { ms, reply } = await firstReplyMs("execute_request", { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
  if (reply.status !== "ok") throw new Error(`first cell failed: ${JSON.stringify(reply)}`);
  return ms / 1000;
}

function valueOf(x: Exchange): string {
  const result = x.iopub.find((m) => m.header.msg_type === "execute_result" || m.header.msg_type === "error");
  const content = result?.content as any;
  if (!content || result!.header.msg_type === "error") throw new Error(`cell failed: ${content?.evalue ?? "no result"}`);
  return content.data["text/plain"];
}

/**
 * Starts this process's own runtime (a plain script's driver, 2 PEs) with 1,000 elements; the
 * result measures one repetition of broadcast + sum over them, in ms per iteration.
 */
async function reductionFromScript(): Promise<() => Promise<number>> {
  await charm.start({ numPes: 2, modules: [new URL("../bench/chares.ts", import.meta.url).href] });
  const summers = charm.array(Summer, 1000);
  await charm.awaitCreation(summers);
  return async () => {
    const t0 = performance.now();
    for (let i = 0; i < REDUCTIONS; i++) { const f = new Future<number>(); summers.step(f); if (await f !== 1000) throw new Error("bad sum"); }
    return (performance.now() - t0) / REDUCTIONS;
  };
}


/** Benchmark rows for the runtime inside the kernel (2 PEs). */
export async function interactiveBenchmarks(): Promise<Row[]> {
  process.env.CHARM4TS_PES = "2";
  const rows: Row[] = [];
  const starts: number[] = [];
  const nodes: number[] = [];
  for (let i = 0; i < 5; i++) {
    nodes.push((await nodeStartMs()) / 1000);
    starts.push(await startWithPes());
  }
  // The floor shows how fast this machine starts any Node process (and so any thread).
  rows.push({ name: "kernel start to first cell reply with PEs ready", value: medianOf(starts), unit: "s", floor: { name: "node -e 0 start to exit", value: medianOf(nodes), unit: "s" }, target: "≤ 0.4 s" });

  const k = await launchKernel();
  try {
    await k.client.execute(`class Answer extends Chare { echo(x: number) { return x; } }
const answer = charm.array(Answer, 2);
class Adder extends Chare { step(f: Future<number>) { this.contribute(1, Reducer.sum, f); } }
const adders = charm.array(Adder, 1000);
await charm.awaitCreation(answer, adders);`);
    const trivial: number[] = [];
    const call: number[] = [];
    for (let i = 0; i < 250; i++) {
      let t0 = performance.now();
      await k.client.execute("1");
      trivial.push(performance.now() - t0);
      t0 = performance.now();
      const x = await k.client.execute("await answer.at(1).echo.ret(7)");
      call.push(performance.now() - t0);
      if (i === 0 && valueOf(x) !== "7") throw new Error("wrong answer from the chare");
    }
    rows.push({ name: "cell calling one chare and awaiting its result, p50", value: medianOf(call), unit: "ms", floor: { name: "trivial cell '1', p50", value: medianOf(trivial), unit: "ms" }, target: "≤ 5 ms" });

    const fromScript = await reductionFromScript();
    try {
      const fromCell: number[] = [];
      const scripted: number[] = [];
      for (let rep = 0; rep <= REPETITIONS; rep++) {
        const x = await k.client.execute(`{
  const t0 = performance.now();
  for (let i = 0; i < ${REDUCTIONS}; i++) { const f = new Future<number>(); adders.step(f); if (await f !== 1000) throw new Error("bad sum"); }
  (performance.now() - t0) / ${REDUCTIONS}
}`);
        const script = await fromScript();
        if (rep === 0) continue; // the warm-up
        fromCell.push(Number(valueOf(x)));
        scripted.push(script);
      }
      rows.push({ name: `broadcast + sum over 1,000 elements from a cell (median of ${REPETITIONS})`, value: medianOf(fromCell), unit: "ms", floor: { name: "the same from a script, in turns", value: medianOf(scripted), unit: "ms" }, target: "≤ 1.5× the script" });
    } finally {
      await charm.shutdown();
    }
  } finally {
    await k.shutdown();
  }
  return rows;
}
