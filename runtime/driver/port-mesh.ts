/** A full mesh of MessagePorts among endpoints of one process: one channel per pair. */
import { MessageChannel, type MessagePort } from "node:worker_threads";
import type { Endpoint } from "../protocol/ids.ts";

/** For each endpoint, its end of a channel to every other one (transferred to its thread). */
export function portMesh(endpoints: readonly Endpoint[]): Map<Endpoint, Array<[Endpoint, MessagePort]>> {
  const portsOf = new Map<Endpoint, Array<[Endpoint, MessagePort]>>(endpoints.map((e) => [e, []]));
  for (let i = 0; i < endpoints.length; i++) {
    for (let j = i + 1; j < endpoints.length; j++) {
      const { port1, port2 } = new MessageChannel();
      portsOf.get(endpoints[i]!)!.push([endpoints[j]!, port1]);
      portsOf.get(endpoints[j]!)!.push([endpoints[i]!, port2]);
    }
  }
  return portsOf;
}
