/**
 * Notebook mode: cells that were interrupted. An interrupt abandons a cell that awaits (its awaits
 * can't be cancelled from outside), so a loop around an await went on in the background, stepping
 * the chares under later cells. The driver notes the cell here (the kernel stops the cell's own
 * code where it resumes after an await: kernel/cells/worker/resumed.ts) and tells every PE, where
 * the pool's chunks that cell started stop at their next pause (pool/pool.ts).
 */
import { maybeRt } from "./current.ts";

// On the driver: interrupted cells by id, with their names. On a PE: the ids the driver sent.
const interrupted = new Map<number, string>();

/** Cell `cell` (named `name`) was interrupted: noted here, and every live PE hears of it. */
export function interruptCell(cell: number, name: string): void {
  interrupted.set(cell, name);
  const runtime = maybeRt();
  if (!runtime?.isDriver) return;
  for (let pe = 0; pe < runtime.numPes; pe++) if (!runtime.failures.dead.has(pe)) runtime.send(pe, { t: "cellInterrupted", cause: cell });
}

/** On a PE: the driver's cell `cause` was interrupted. */
export function noteInterruptedCause(cause: number): void {
  interrupted.set(cause, "");
}

/** Whether work done on behalf of `cause` (a cell's id; 0 for none) was interrupted. */
export function causeInterrupted(cause: number): boolean {
  return cause !== 0 && interrupted.has(cause);
}

/** Whether the cell named `name` was interrupted (driver). */
export function cellInterrupted(name: string): boolean {
  for (const n of interrupted.values()) if (n === name) return true;
  return false;
}
