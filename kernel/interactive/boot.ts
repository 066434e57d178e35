/**
 * Starts the kernel's PEs as early as possible: the cell thread calls this before it loads
 * TypeScript and the cell machinery, so the PE threads boot while that happens.
 */
import { availableParallelism } from "node:os";
import { charm } from "../../runtime/index.ts";

let booting: Promise<void> | undefined;

/** Starts the PEs once (CHARM4TS_PES or the number of cores); later calls get the same promise. */
export function bootPes(): Promise<void> {
  if (!booting) {
    const numPes = Number(process.env.CHARM4TS_PES) || availableParallelism();
    booting = charm.start({ numPes, modules: [], interactive: true });
    booting.catch(() => undefined); // reported to the first cell that needs the runtime
  }
  return booting;
}
