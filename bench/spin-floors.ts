/**
 * Floors for a thread that doesn't wait to be woken: a round trip between two threads that both
 * poll (`receiveMessageOnPort` on a MessagePort, or a SharedArrayBuffer word with Atomics),
 * beside which the spin window's rows are printed.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from "node:worker_threads";

const POLL_ECHO = `
const { parentPort, receiveMessageOnPort } = require("node:worker_threads");
parentPort.once("message", ({ port, iters }) => {
  for (let i = 0; i < iters; i++) {
    let got;
    while (!(got = receiveMessageOnPort(port)));
    port.postMessage(got.message);
  }
  port.close();
});`;

/** Round trip of one small message between two threads that both poll with receiveMessageOnPort, in µs. */
export async function polledPortRoundTrip(iters: number): Promise<number> {
  const worker = new Worker(POLL_ECHO, { eval: true });
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ port: port2, iters }, [port2]);
  try {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) {
      port1.postMessage({ n: i });
      while (!receiveMessageOnPort(port1));
    }
    return ((performance.now() - t0) * 1000) / iters;
  } finally {
    port1.close();
    await worker.terminate();
  }
}

const ATOMICS_ECHO = `
const { parentPort } = require("node:worker_threads");
parentPort.once("message", ({ sab, iters }) => {
  const word = new Int32Array(sab);
  // Odd values are pings, even ones pongs: answer each ping with the next even number.
  for (let i = 0; i < iters; i++) {
    const ping = 2 * i + 1;
    while (Atomics.load(word, 0) !== ping);
    Atomics.store(word, 0, ping + 1);
  }
});`;

/** Round trip through one SharedArrayBuffer word, both threads spinning with Atomics.load, in µs. */
export async function atomicsRoundTrip(iters: number): Promise<number> {
  const worker = new Worker(ATOMICS_ECHO, { eval: true });
  const sab = new SharedArrayBuffer(4);
  const word = new Int32Array(sab);
  worker.postMessage({ sab, iters });
  try {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) {
      Atomics.store(word, 0, 2 * i + 1);
      while (Atomics.load(word, 0) !== 2 * i + 2);
    }
    return ((performance.now() - t0) * 1000) / iters;
  } finally {
    await worker.terminate();
  }
}
