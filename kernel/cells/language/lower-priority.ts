/**
 * Lowers this whole process's CPU priority. The language process's type checks are advice; on a
 * 2-core machine they must not take cycles from the PEs running the cell's work — nor may the
 * garbage collection and compilation they cause, which V8 runs on helper threads of its own.
 * Linux gives each thread its own nice value (a thread id is a valid `setpriority` target), so
 * every thread running now is lowered; threads started later inherit it from their creator.
 * Elsewhere, or without permission, it quietly does nothing.
 */
import { readdirSync } from "node:fs";
import { setPriority } from "node:os";

/** Makes every thread of this process the last in line for the CPU (nice 19). */
export function lowerProcessPriority(): void {
  let threads: string[];
  try {
    threads = readdirSync("/proc/self/task");
  } catch {
    threads = [String(process.pid)]; // not Linux: the process's priority is its threads'
  }
  for (const tid of threads) {
    try {
      setPriority(Number(tid), 19);
    } catch {
      // Not allowed: the check simply competes as any thread would.
    }
  }
}
