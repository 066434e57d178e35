/**
 * Starts the kernel's PEs as early as possible: the cell thread calls this before it loads
 * TypeScript and the cell machinery, so the PE threads boot while that happens.
 */
import { availableParallelism } from "node:os";
import { charm } from "../../runtime/index.ts";

let booting: Promise<void> | undefined;

type OutputRouter = (stream: "stdout" | "stderr", text: string, cause: number) => void;
let router: OutputRouter = (stream, text) => process[stream].write(text);

/** Decides where PE output goes, given the cell that caused it (set by the cell thread). */
export function routePeOutput(route: OutputRouter): void {
  router = route;
}

/** Starts the PEs once (CHARM4TS_PES or the number of cores); later calls get the same promise. */
export function bootPes(): Promise<void> {
  if (!booting) {
    const numPes = Number(process.env.CHARM4TS_PES) || availableParallelism();
    booting = charm.start({ numPes, modules: [], interactive: true, onOutput: (stream, text, cause) => router(stream, text, cause) });
    booting.catch(() => undefined); // reported to the first cell that needs the runtime
  }
  return booting;
}
