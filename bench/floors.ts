/** Floors measured in the same run: raw MessagePort traffic between two threads, memcpy, a plain loop. */
import { MessageChannel, Worker } from "node:worker_threads";
import { spawnSync } from "node:child_process";

const ECHO_WORKER = `
const { parentPort } = require("node:worker_threads");
parentPort.once("message", ({ port, mode }) => {
  let n = 0;
  port.on("message", (m) => {
    if (mode === "echo") port.postMessage(m);
    else if (++n === m.total) port.postMessage("done");
  });
});`;

async function withPeer<T>(mode: "echo" | "count", run: (port: import("node:worker_threads").MessagePort) => Promise<T>): Promise<T> {
  const worker = new Worker(ECHO_WORKER, { eval: true });
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ port: port2, mode }, [port2]);
  try {
    return await run(port1);
  } finally {
    port1.close();
    await worker.terminate();
  }
}

/** Round trip of one small postMessage between two threads, in µs. */
export function rawPortRoundTrip(iters: number): Promise<number> {
  return withPeer("echo", (port) => new Promise((resolve) => {
    let left = iters;
    const t0 = performance.now();
    port.on("message", () => {
      if (--left === 0) resolve(((performance.now() - t0) * 1000) / iters);
      else port.postMessage({ n: left });
    });
    port.postMessage({ n: left });
  }));
}

/** One-way small postMessages per second between two threads. */
export function rawPortThroughput(count: number): Promise<number> {
  return withPeer("count", (port) => new Promise((resolve) => {
    const t0 = performance.now();
    port.once("message", () => resolve(count / ((performance.now() - t0) / 1000)));
    for (let i = 0; i < count; i++) port.postMessage({ total: count, i });
  }));
}

/** memcpy bandwidth of a 1 MiB Float64Array, in GB/s. */
export function memcpyBandwidth(): number {
  const src = new Float64Array(131072).fill(1.5);
  const dst = new Float64Array(131072);
  const reps = 2000;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) { src[0] = i; dst.set(src); }
  return (reps * src.byteLength) / ((performance.now() - t0) / 1000) / 1e9;
}

/** A plain recursive fib(n) in one thread, in ms. */
export function plainFib(n: number): number {
  const fib = (k: number): number => (k <= 1 ? k : fib(k - 1) + fib(k - 2));
  const t0 = performance.now();
  fib(n);
  return performance.now() - t0;
}

/** Process start to exit of `node -e 0`, in s. */
export function nodeStartup(): number {
  const t0 = performance.now();
  spawnSync(process.execPath, ["-e", "0"]);
  return (performance.now() - t0) / 1000;
}
