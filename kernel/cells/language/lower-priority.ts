/**
 * Lowers this thread's CPU priority (Linux: a thread id is a valid `setpriority` target). The
 * language worker's type checks are advice; on a 2-core machine they must not take cycles from
 * the PEs running the cell's work. Elsewhere, or without permission, it quietly does nothing.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/** Makes this thread the last in line for the CPU (nice 19). */
export function lowerThreadPriority(): void {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 19);
  } catch {
    // Not Linux, or not allowed: the check simply competes as any thread would.
  }
}
