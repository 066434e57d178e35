import type { StartOptions } from "../../runtime/index.ts";

/**
 * The transports the transport-independent suites run over (`describe.each(TRANSPORTS)`): worker
 * threads of the test's process; a process of its own per PE over ZeroMQ TCP; processes hosting
 * 2 PEs each (MessagePorts between them, ZeroMQ to the driver and other processes); mixed, half
 * the PEs threads of the test's process and the others processes.
 */
export const TRANSPORTS = ["threads", "processes", "2 PEs per process", "mixed"] as const;

/** Where the PEs are. */
export type TransportName = (typeof TRANSPORTS)[number];

/** The start options that put the PEs there. */
export function over(name: TransportName): Pick<StartOptions, "transport" | "pesPerProcess"> {
  return name === "2 PEs per process" ? { transport: "processes", pesPerProcess: 2 } : { transport: name };
}

/** The same as charmrun's flags. */
export function charmrunFlags(name: TransportName): string[] {
  return { threads: [], processes: ["+processes"], "2 PEs per process": ["+processes", "+ppn", "2"], mixed: ["+mixed"] }[name];
}
