/**
 * A PE's thread: boots its runtime over the ports the driver handed it (pe-boot.ts), then just
 * handles messages until told to stop. A thread that also reaches other processes (it was
 * started with `join`) binds a ZeroMQ socket first and learns its PE number later
 * (joining-thread.ts, loaded only then: ZeroMQ stays unloaded for thread-only runtimes).
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { Endpoint } from "../protocol/ids.ts";
import { PortTransport } from "../transport/port-transport.ts";
import { bootPe, type PeConfig } from "./pe-boot.ts";
import type { JoiningThreadData } from "./joining-threads.ts";

/** What the driver passes to each PE thread. */
export interface PeWorkerData extends PeConfig {
  charm4tsPe: true;
  ports: Array<[Endpoint, MessagePort]>;
}

const data = workerData as PeWorkerData | JoiningThreadData;
// No top-level await: Node 20 aborts when a thread is terminated while an async module starts.
// A failure to boot still ends the thread with an error (an unhandled rejection), as it did then.
if ("join" in data) {
  void import("./joining-thread.ts").then(({ runJoiningThread }) => runJoiningThread(data));
} else {
  const transport = new PortTransport(data.pe, new Map(data.ports));
  void bootPe(data, transport, () => {
    transport.flush();
    transport.close();
    parentPort?.close();
  });
}
