/**
 * Where each PE of a runtime with PE processes lives: the first `local` PEs are worker threads of
 * the driver's own process (a mixed runtime), the rest are spread over PE processes, at most
 * `perProcess` each, in consecutive numbers (Charm++'s +ppn: PEs of one process are neighbours).
 */
import type { Endpoint } from "../protocol/ids.ts";

/** The PEs one PE process hosts: `first` … `first + count - 1`. */
export interface ProcessSlot {
  first: Endpoint;
  count: number;
}

/** Threads of the driver's process, then the PE processes' slots in order. */
export interface PeLayout {
  local: number;
  processes: ProcessSlot[];
  /** Each PE's slot in `processes`; -1 for the driver's own threads. */
  slotOf: number[];
}

/** Lays out `numPes` PEs: `local` threads here (0 … local-1), then processes of `perProcess` PEs (the last may have fewer). */
export function peLayout(numPes: number, local = 0, perProcess = 1): PeLayout {
  if (!Number.isInteger(local) || local < 0 || local > numPes) throw new Error(`localPes must be a whole number from 0 to the number of PEs (${numPes}), got ${local}`);
  if (!Number.isInteger(perProcess) || perProcess < 1) throw new Error(`pesPerProcess must be a whole number from 1, got ${perProcess}`);
  const processes: ProcessSlot[] = [];
  const slotOf: number[] = new Array<number>(local).fill(-1);
  for (let first = local; first < numPes; first += perProcess) {
    const count = Math.min(perProcess, numPes - first);
    for (let i = 0; i < count; i++) slotOf.push(processes.length);
    processes.push({ first, count });
  }
  return { local, processes, slotOf };
}

/** The PEs of a slot, in order. */
export function pesOf(slot: ProcessSlot): Endpoint[] {
  return Array.from({ length: slot.count }, (_, i) => slot.first + i);
}
