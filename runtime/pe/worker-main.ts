/**
 * A PE's thread: boots its runtime over the ports the driver handed it (pe-boot.ts), then just
 * handles messages until told to stop. A thread that also reaches other processes (it was
 * started with `join`) binds a ZeroMQ socket first and learns its PE number later
 * (thread-joins.ts, loaded only then: ZeroMQ stays unloaded for thread-only runtimes).
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { Endpoint } from "../protocol/ids.ts";
import { PortTransport } from "../transport/port-transport.ts";
import { bootPe, type PeConfig } from "./pe-boot.ts";
import type { JoiningThreadData } from "../startup/start-joining-threads.ts";
import type { LateSetup } from "../driver/prestart.ts";

/** What the driver passes to each PE thread. */
export interface PeWorkerData extends PeConfig {
  charm4tsPe: true;
  ports: Array<[Endpoint, MessagePort]>;
}

/** A PE thread started ahead of its driver (driver/prestart.ts): its setup comes from its parent later. */
type PrestartedData = Omit<PeWorkerData, keyof LateSetup> & { setupLater: true };

const data = workerData as PeWorkerData | PrestartedData | JoiningThreadData;
// No top-level await: Node 20 aborts when a thread is terminated while an async module starts.
// A failure to boot still ends the thread with an error (an unhandled rejection), as it did then.
if ("join" in data) {
  void import("./thread-joins.ts").then(({ runJoiningThread }) => runJoiningThread(data));
} else if ("setupLater" in data) {
  // Everything is loaded by now; the rest waits for the driver that adopts this thread.
  parentPort!.once("message", (setup: LateSetup) => boot({ ...data, ...setup }));
} else {
  boot(data);
}

function boot(config: PeConfig & { ports: Array<[Endpoint, MessagePort]> }): void {
  const transport = new PortTransport(config.pe, new Map(config.ports), config.spinUs, config.awake);
  void bootPe(config, transport, () => {
    transport.flush();
    transport.close();
    parentPort?.close();
  });
}
