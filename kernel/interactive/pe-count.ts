/** How many PEs the kernel's runtime starts with. */
import { availableParallelism } from "node:os";

/** CHARM4TS_PES, else the number of cores. */
export function kernelPeCount(): number {
  return Number(process.env.CHARM4TS_PES) || availableParallelism();
}
