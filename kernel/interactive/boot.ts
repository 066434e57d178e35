/**
 * Starts the kernel's PEs as early as possible: the cell thread calls this before it loads
 * TypeScript and the cell machinery, so the PE threads boot while that happens.
 */
import { charm } from "../../runtime/index.ts";
import { workerData } from "node:worker_threads";
import { discardPrestarted, offerPrestarted, type DroppedOutput, type PrestartedPes } from "../../runtime/embedding.ts";

let booting: Promise<void> | undefined;

type OutputRouter = (stream: "stdout" | "stderr", text: string, cause: number, pe: number, dropped?: DroppedOutput) => void;
let router: OutputRouter = (stream, text) => { if (text) process[stream].write(text); };

/** Decides where PE output goes, given the cell that caused it (set by the cell thread). */
export function routePeOutput(route: OutputRouter): void {
  router = route;
}

/**
 * Starts the PEs once, as many as the runtime's default (CHARM4TS_PES, else the CPUs the kernel
 * may use: the same count main.ts prestarted, and charm.status() says where it came from);
 * later calls get the same promise.
 */
export function bootPes(): Promise<void> {
  if (!booting) {
    // The kernel's main thread started the PE threads already (main.ts): this start adopts them.
    const prestarted = (workerData as { pes?: PrestartedPes } | null)?.pes;
    if (prestarted) offerPrestarted(prestarted);
    booting = charm.start({ modules: [], interactive: true, onOutput: (stream, text, cause, pe, dropped) => router(stream, text, cause, pe, dropped) });
    // PE threads the kernel started ahead (main.ts) and this start didn't take (PE processes) end.
    booting.finally(discardPrestarted).catch(() => undefined); // a failure is reported to the first cell that needs the runtime
  }
  return booting;
}
