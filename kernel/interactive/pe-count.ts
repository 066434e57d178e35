/** How many PEs the kernel's runtime starts with. */
import { defaultPeCount } from "../../runtime/embedding.ts";

/** The runtime's default: CHARM4TS_PES, else the CPUs the kernel may use (affinity mask, cgroup quota). */
export function kernelPeCount(): number {
  return defaultPeCount().count;
}
