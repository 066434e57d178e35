// The heartbeat (spec: "Heartbeat for kernels"): a REP socket that echoes every ping. It runs in a
// worker thread of its own, with a ZeroMQ context of its own, so nothing on the kernel's main
// thread — checking and parsing a 400 MB message, a slow handler — can hold up the echo and make a
// frontend take a busy kernel for a dead one. Cheap to start: the thread boots while the kernel
// loads, and the first reply doesn't wait for it.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { log } from "./log.ts";
import { BIND_PATIENCE_MS } from "./bind-retry.ts";

// The thread's program. An eval'd worker is a CommonJS script, and a string needs no entry of its
// own in the build. zeromq is required by the path resolved here: the kernel's cwd is the
// notebook's folder, from which `require("zeromq")` would not find this package's copy.
const ECHO = `
const { parentPort, workerData } = require("node:worker_threads");
const zmq = require(workerData.zeromq);
// A context of its own: its own libzmq I/O thread, which no huge frame for shell is read on.
const context = new zmq.Context();
const hb = new zmq.Reply({ context, linger: 0, maxMessageSize: workerData.maxMessageBytes });
parentPort.once("message", () => {
  hb.close();
  parentPort.close();
});
(async () => {
  // A port held for a moment by another process (see bind-retry.ts) is retried, for as long.
  for (let pause = 10, deadline = Date.now() + workerData.patienceMs; ; pause = Math.min(pause * 2, 200)) {
    try { await hb.bind(workerData.endpoint); break; } catch (e) {
      if (!/in use/i.test(String(e && e.message)) || Date.now() + pause > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
  parentPort.postMessage({ bound: true });
  for await (const frames of hb) await hb.send(frames);
})().catch((e) => {
  if (!hb.closed) parentPort.postMessage({ error: e instanceof Error ? e.message : String(e) });
});
`;

// How long close() waits for the thread to end.
const CLOSE_GRACE_MS = 1000;

/** A heartbeat thread. */
export interface Heartbeat {
  /** Resolves once the socket is bound; rejects if it can't be (the port is taken). */
  readonly ready: Promise<void>;
  /** Closes the socket and ends the thread (once; later calls share the first). */
  close(): Promise<void>;
}

/** Starts the heartbeat thread on `endpoint`; a peer sending a frame over `maxMessageBytes` is disconnected. */
export function startHeartbeat(endpoint: string, maxMessageBytes: number): Heartbeat {
  const zeromq = createRequire(import.meta.url).resolve("zeromq");
  const worker = new Worker(ECHO, { eval: true, workerData: { zeromq, endpoint, maxMessageBytes, patienceMs: BIND_PATIENCE_MS }, name: "charm4ts heartbeat" });
  // The main thread's own sockets keep the kernel alive; this thread alone must not.
  worker.unref();
  let phase: "starting" | "running" | "closing" | "stopped" = "starting";
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    // Whatever ends the thread is reported: to whoever awaits `ready` if it never bound (a no-op
    // once bound), and to the log if it stops while running (frontends will soon take the kernel
    // for dead: the log says why).
    const fail = (reason: string) => {
      reject(new Error(`heartbeat on ${endpoint}: ${reason}`));
      if (phase === "running") log(`heartbeat stopped: ${reason}`);
      if (phase !== "closing") phase = "stopped";
    };
    worker.on("message", (m: { bound?: true; error?: string }) => {
      if (m.bound && phase === "starting") {
        phase = "running";
        resolve();
      } else if (m.error !== undefined) fail(m.error);
    });
    worker.once("error", (e) => fail(e.message));
    void exited.then(() => fail("its thread exited"));
  });
  // Started ahead of the kernel, which awaits `ready` later: not an unhandled rejection meanwhile.
  ready.catch(() => undefined);
  let closed: Promise<void> | undefined;
  const close = async () => {
    // Also after a failure: a thread whose bind failed still waits for this message.
    phase = "closing";
    worker.postMessage("close");
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS)));
    const ended = await Promise.race([exited.then(() => true), late]);
    clearTimeout(timer);
    // Never worker.terminate(): ending a thread by force while its ZeroMQ socket waits to receive
    // aborts the whole process (zeromq.js#411). Unref'd, a stuck one doesn't hold the process.
    if (!ended) log(`the heartbeat thread didn't stop within ${CLOSE_GRACE_MS} ms; it is left running`);
    phase = "stopped";
  };
  return {
    ready,
    close: () => (closed ??= close()),
  };
}
