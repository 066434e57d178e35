/**
 * The default number of PEs: CHARM4TS_PES, else the CPUs this process may really use — the
 * fewest of its CPU affinity mask and its cgroup CPU quota (v1 or v2, rounded up), at least 1.
 * Node 20's `availableParallelism()` honours the affinity mask but not a quota, so a container
 * or JupyterHub pod limited to 1 CPU on a 64-core host would otherwise start 64 PEs.
 *
 * The parsing is pure (and never throws: what it can't read is ignored); `defaultPeCount` is the
 * one function that reads /proc and the cgroup files.
 */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";

/** A number of PEs and where it came from ("CHARM4TS_PES", "CPU affinity: 2 of 64 cores", …). */
export interface PeCount {
  count: number;
  source: string;
}

/** A cgroup's CPU limit: CPUs' worth of time per period (1.5 = one and a half CPUs). */
export interface CpuQuota {
  cpus: number;
  /** "cgroup v2 cpu.max 150000/100000 → 2", "cgroup v1 cpu.cfs_quota_us 100000/100000 → 1". */
  source: string;
}

/** One line of /proc/self/mountinfo, the fields we use. */
export interface Mount {
  /** The directory of the hierarchy mounted here ("/" unless a container sees only its part). */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** One line of /proc/self/cgroup: a hierarchy's controllers (none for v2) and the process's cgroup in it. */
export interface CgroupLine {
  controllers: string[];
  path: string;
}

/** Reads a file's text, or undefined when it can't be read. */
export type ReadText = (path: string) => string | undefined;

// mountinfo escapes space, tab, newline and backslash in paths as octal (\040).
const unescapeOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The mounts of /proc/self/mountinfo; malformed lines are skipped. */
export function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split("\n")) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTIONS
    const fields = line.trim().split(" ");
    const dash = fields.indexOf("-", 6);
    if (dash < 0 || fields.length < dash + 4 || !fields[3]!.startsWith("/") || !fields[4]!.startsWith("/")) continue;
    mounts.push({ root: unescapeOctal(fields[3]!), mountPoint: unescapeOctal(fields[4]!), fsType: fields[dash + 1]!, superOptions: fields[dash + 3]!.split(",") });
  }
  return mounts;
}

/** The lines of /proc/self/cgroup ("0::/path" for v2, "4:cpu,cpuacct:/path" for v1); malformed ones skipped. */
export function parseProcCgroup(text: string): CgroupLine[] {
  const lines: CgroupLine[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line.trim());
    if (m) lines.push({ controllers: m[2] === "" ? [] : m[2]!.split(","), path: m[3]! });
  }
  return lines;
}

const positiveInteger = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) && Number(s) > 0 ? Number(s) : undefined);

/** A quota and its period; undefined for no limit ("max", -1) or anything malformed. */
export function parseQuota(quotaText: string | undefined, periodText: string | undefined): { quota: number; period: number } | undefined {
  const quota = positiveInteger(quotaText?.trim());
  const period = positiveInteger(periodText?.trim());
  return quota !== undefined && period !== undefined ? { quota, period } : undefined;
}

/** cgroup v2's `cpu.max` ("max 100000" or "QUOTA PERIOD"): the limit, or undefined for none or malformed. */
export function parseCpuMax(text: string | undefined): { quota: number; period: number } | undefined {
  const fields = text?.trim().split(/\s+/);
  return fields?.length === 2 ? parseQuota(fields[0], fields[1]) : undefined;
}

const rootOf = (mount: Mount) => (mount.root === "/" ? "" : mount.root.replace(/\/+$/, ""));
const holds = (mount: Mount, cgroupPath: string) => cgroupPath === rootOf(mount) || cgroupPath.startsWith(`${rootOf(mount)}/`);

/**
 * The directories of a process's cgroup and of each parent up to the mount point, innermost
 * first. A mount whose root isn't the cgroup's ancestor (another namespace's view), or a cgroup
 * outside the namespace, gives the mount point alone.
 */
export function cgroupDirs(mount: Mount, cgroupPath: string): string[] {
  const root = rootOf(mount);
  const inside = holds(mount, cgroupPath) ? cgroupPath.slice(root.length) : "";
  // "/../x": the process's cgroup is outside this cgroup namespace's view, so not below the mount.
  const parts = inside.split("/").includes("..") ? [] : inside.split("/").filter((p) => p !== "" && p !== ".");
  const base = mount.mountPoint.replace(/\/+$/, "");
  return parts.map((_, i) => `${base}/${parts.slice(0, parts.length - i).join("/")}`).concat(base === "" ? "/" : base);
}

function tighter(a: CpuQuota | undefined, b: CpuQuota | undefined): CpuQuota | undefined {
  return !a || (b && b.cpus < a.cpus) ? b : a;
}

function quotaOf(version: "v1 cpu.cfs_quota_us" | "v2 cpu.max", limit: { quota: number; period: number } | undefined): CpuQuota | undefined {
  if (!limit) return undefined;
  const cpus = limit.quota / limit.period;
  return { cpus, source: `cgroup ${version} ${limit.quota}/${limit.period} → ${Math.max(1, Math.ceil(cpus))}` };
}

/**
 * The tightest cgroup CPU quota of this process (v2 `cpu.max` and v1 `cpu.cfs_quota_us` /
 * `cpu.cfs_period_us`, in its cgroup and every parent), or undefined when none is set or readable.
 */
export function cgroupCpuQuota(read: ReadText): CpuQuota | undefined {
  const mounts = parseMountInfo(read("/proc/self/mountinfo") ?? "");
  let tightest: CpuQuota | undefined;
  for (const line of parseProcCgroup(read("/proc/self/cgroup") ?? "")) {
    const v2 = line.controllers.length === 0;
    if (!v2 && !line.controllers.includes("cpu")) continue;
    const candidates = mounts.filter((m) => (v2 ? m.fsType === "cgroup2" : m.fsType === "cgroup" && m.superOptions.includes("cpu")));
    const mount = candidates.find((m) => holds(m, line.path)) ?? candidates[0];
    if (!mount) continue;
    for (const dir of cgroupDirs(mount, line.path)) {
      const limit = v2 ? quotaOf("v2 cpu.max", parseCpuMax(read(`${dir}/cpu.max`))) : quotaOf("v1 cpu.cfs_quota_us", parseQuota(read(`${dir}/cpu.cfs_quota_us`), read(`${dir}/cpu.cfs_period_us`)));
      tightest = tighter(tightest, limit);
    }
  }
  return tightest;
}

/** The PE count from what limits this process: CHARM4TS_PES, else the fewest of the affinity mask's CPUs and the quota, at least 1. */
export function choosePeCount(env: NodeJS.ProcessEnv, limits: { affinity: number; cores: number; quota?: CpuQuota }): PeCount {
  // Checked where it's used (start-options.ts), so a wrong value fails naming the variable.
  if (env.CHARM4TS_PES) return { count: Number(env.CHARM4TS_PES), source: "CHARM4TS_PES" };
  const affinity = Math.max(1, limits.affinity);
  const quota = limits.quota ? Math.max(1, Math.ceil(limits.quota.cpus)) : Infinity;
  if (quota <= affinity) return { count: quota, source: limits.quota!.source };
  return { count: affinity, source: affinity < limits.cores ? `CPU affinity: ${affinity} of ${limits.cores} cores` : `the number of cores (${affinity})` };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // no such file (no cgroup, not Linux) or not readable: no limit from it
  }
}

/** The default number of PEs for this process, and where it came from. */
export function defaultPeCount(env: NodeJS.ProcessEnv = process.env): PeCount {
  if (env.CHARM4TS_PES) return choosePeCount(env, { affinity: 1, cores: 1 });
  // os.cpus() is empty where /proc/cpuinfo can't be read; the affinity count is then all we know.
  const affinity = availableParallelism();
  return choosePeCount(env, { affinity, cores: Math.max(affinity, cpus().length), quota: process.platform === "linux" ? cgroupCpuQuota(readText) : undefined });
}

// More PEs than this many per CPU is almost surely a slip (+p200 for +p2, say): the start alone takes seconds.
const OVERSUBSCRIBED = 4;

/**
 * A warning for far more PEs on this host than it has CPUs, or undefined. They share the CPUs,
 * and each PE costs a fraction of a second of CPU to start (+p200 took 29 s on 2 cores, unannounced).
 */
export function oversubscribedWarning(numPes: number, cpus: PeCount = defaultPeCount({})): string | undefined {
  if (numPes <= OVERSUBSCRIBED * cpus.count) return undefined;
  const plural = cpus.count === 1 ? "" : "s";
  return `charm4ts: warning: starting ${numPes} PEs on this host, which has ${cpus.count} CPU${plural} for this process (${cpus.source}): the PEs share the CPU${plural}, so work runs no faster than on ${cpus.count}, and each PE takes a fraction of a second of CPU to start; +p${cpus.count} is one PE per CPU`;
}
