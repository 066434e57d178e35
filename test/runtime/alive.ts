import { readFileSync } from "node:fs";

/** Whether a process exists (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether a process no longer runs: it doesn't exist, or it exited and awaits reaping (a zombie). */
export function gone(pid: number): boolean {
  if (!alive(pid)) return true;
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? false;
  } catch {
    return true; // reaped while we looked
  }
}
