// vitest global setup: the run must leave nothing named charm4ts-* in the system's temp folder
// (tests make theirs with temp-dir.ts; the kernel and the runtime make none). The teardown names
// what appeared during the run and is still there, and fails the run — unless another vitest
// runs on this machine (another checkout's run shares /tmp and may have made them), where it only
// names them; CHARM4TS_CI=1 fails regardless. /tmp/charm4ts-<uid> is the compile cache, kept on purpose.
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The compile cache's name (runtime/launcher/compile.ts): persistent, not a leftover. */
const COMPILE_CACHE = `charm4ts-${process.getuid?.() ?? "user"}`;

/** Snapshots the temp folder; the teardown reports (and fails the run on) charm4ts-* entries new since. */
export default function setup(): () => void {
  const before = new Set(entries());
  return () => {
    const left = entries().filter((name) => !before.has(name)).map((name) => join(tmpdir(), name));
    if (left.length === 0) return;
    const fail = process.env.CHARM4TS_CI === "1" || !otherVitestRunning();
    console.log(`\nThe run left ${left.length} charm4ts-* entries in ${tmpdir()} (make them with test/temp-dir.ts):\n  ${left.join("\n  ")}\n` +
      (fail ? "" : "Not failing the run: another vitest is running on this machine and may have made them.\n"));
    if (fail) process.exitCode = 1;
  };
}

/** charm4ts-* names in the temp folder, but the compile cache. */
export function entries(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith("charm4ts-") && name !== COMPILE_CACHE);
}

/** Whether a vitest process other than this one, its ancestors and its descendants is running (Linux /proc; false elsewhere). */
function otherVitestRunning(): boolean {
  const parent = new Map<number, number>();
  const vitests: number[] = [];
  let pids: number[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number);
  } catch {
    return false;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ")".
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("vitest")) vitests.push(pid);
    } catch {
      // Exited meanwhile.
    }
  }
  const ancestors = new Set<number>();
  for (let p = process.pid; p > 1 && !ancestors.has(p); p = parent.get(p) ?? 0) ancestors.add(p);
  const ours = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parent.get(p) ?? 0, hops++) if (p === process.pid) return true;
    return ancestors.has(pid);
  };
  return vitests.some((pid) => !ours(pid));
}
