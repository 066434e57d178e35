/**
 * A PE's thread: boots its runtime over the ports the driver handed it (pe-boot.ts), then just
 * handles messages until told to stop.
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { Endpoint } from "../protocol/ids.ts";
import { PortTransport } from "../transport/port-transport.ts";
import { bootPe, type PeConfig } from "./pe-boot.ts";

/** What the driver passes to each PE thread. */
export interface PeWorkerData extends PeConfig {
  charm4tsPe: true;
  ports: Array<[Endpoint, MessagePort]>;
}

const data = workerData as PeWorkerData;
const transport = new PortTransport(data.pe, new Map(data.ports));
await bootPe(data, transport, () => {
  transport.flush();
  transport.close();
  parentPort?.close();
});
