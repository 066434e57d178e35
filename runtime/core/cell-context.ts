/**
 * Notebook mode, on the driver: which cell's evaluation the running code belongs to, followed
 * across awaits. An interrupt abandons a cell that awaits (its awaits can't be cancelled from
 * outside), so a loop around an await went on in the background — stepping the chares, feeding
 * them futures the next cell's loop also fed, printing under later cells. Its next call into
 * the runtime now throws instead, which ends the loop; code of other cells is unaffected.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { CharmError } from "../protocol/errors.ts";
import { maybeRt } from "./current.ts";

// Made on first use: an async context costs every promise a little, and scripts never need it.
let context: AsyncLocalStorage<number> | undefined;
// Interrupted cells' ids (one per interrupt: few, and an id is never reused).
const interrupted = new Map<number, string>();

/** Runs `work` (a cell's evaluation) as cell `cell`: code it starts, after any await, still belongs to it. */
export function runInCell<T>(cell: number, work: () => T): T {
  context ??= new AsyncLocalStorage<number>();
  return context.run(cell, work);
}

/** Cell `cell` (named `name`) was interrupted: what its code still calls from now on throws, and every PE hears of it. */
export function interruptCell(cell: number, name: string): void {
  interrupted.set(cell, name);
  const runtime = maybeRt();
  if (!runtime?.isDriver) return;
  for (let pe = 0; pe < runtime.numPes; pe++) if (!runtime.failures.dead.has(pe)) runtime.send(pe, { t: "cellInterrupted", cause: cell });
}

// On a PE: the causes (cells) the driver said were interrupted.
const interruptedCauses = new Set<number>();

/** On a PE: the driver's cell `cause` was interrupted (its pool work stops at its next pause). */
export function noteInterruptedCause(cause: number): void {
  interruptedCauses.add(cause);
}

/** Whether work done on behalf of `cause` (a cell) was interrupted (on a PE: as the driver said). */
export function causeInterrupted(cause: number): boolean {
  return cause !== 0 && (interruptedCauses.has(cause) || interrupted.has(cause));
}

/** Throws if the running code belongs to an interrupted cell (`what`: the call, for the message). */
export function checkNotInterrupted(what: string): void {
  if (interrupted.size === 0) return; // the common case: no lookup of the async context at all
  const cell = context?.getStore();
  const name = cell === undefined ? undefined : interrupted.get(cell);
  if (name !== undefined) {
    throw new CharmError(`${name} was interrupted: its code still running after the interrupt (a loop around an await) stops here, at ${what}`);
  }
}

/** Whether the running code belongs to an interrupted cell (its timers' callbacks are dropped: kernel/cells/worker/parked-timers.ts). */
export function inInterruptedCell(): boolean {
  if (interrupted.size === 0) return false;
  const cell = context?.getStore();
  return cell !== undefined && interrupted.has(cell);
}
