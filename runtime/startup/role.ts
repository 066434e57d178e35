/**
 * Whether this thread is a PE rather than the driver. A PE loads the program to find its chare
 * classes, so the program's `charm.start(main)` must do nothing there: a PE thread is told by
 * its workerData, a PE process by the mark process-main.ts sets before loading the program.
 */
import { isMainThread, workerData } from "node:worker_threads";

const PE_PROCESS = Symbol.for("charm4ts.peProcess");

/** Marks this process as a PE process (before it loads the program's modules). */
export function markPeProcess(): void {
  (globalThis as Record<symbol, unknown>)[PE_PROCESS] = true;
}

/** Whether the code running here is a PE's (a PE thread, or the main thread of a PE process). */
export function isPe(): boolean {
  if (!isMainThread && (workerData as { charm4tsPe?: boolean } | undefined)?.charm4tsPe === true) return true;
  return (globalThis as Record<symbol, unknown>)[PE_PROCESS] === true;
}
