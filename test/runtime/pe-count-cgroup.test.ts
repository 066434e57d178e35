// The default PE count in real cgroups and under a real affinity mask: the test makes a cgroup
// with a CPU quota (v1 cpu controller, or v2 cpu.max), starts Node inside it (and under
// `taskset -c 0`), and that process starts the runtime with no PE count and reports how many PEs
// it got and what charm.status() says they came from; the real kernel too, running a notebook.
// Needs root and a writable cgroup fs.
import { afterAll, beforeAll, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseMountInfo } from "../../runtime/pe-count.ts";
import { describeWith } from "../system-tools.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Where a cgroup with a CPU quota can be made: v1's cpu controller, else a v2 hierarchy offering cpu. */
function cpuController(): { version: 1 | 2; dir: string } | undefined {
  const mounts = existsSync("/proc/self/mountinfo") ? parseMountInfo(readFileSync("/proc/self/mountinfo", "utf8")) : [];
  const v1 = mounts.find((m) => m.fsType === "cgroup" && m.superOptions.includes("cpu"));
  if (v1) return { version: 1, dir: v1.mountPoint };
  const v2 = mounts.find((m) => m.fsType === "cgroup2" && /\bcpu\b/.test(readOr(`${m.mountPoint}/cgroup.controllers`)));
  return v2 ? { version: 2, dir: v2.mountPoint } : undefined;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

const controller = cpuController();
// As test/system-tools.ts's describeWith: a machine without a cgroup fs offering the cpu
// controller (not Linux, a container without /sys/fs/cgroup) skips this suite, unless
// CHARM4TS_CI=1, where it fails; one that has it but won't let us make a cgroup fails.

/** A cgroup made for this test, removed (with what it holds) by `remove`. */
class TestCgroup {
  private readonly made: string[] = [];
  constructor(private readonly c: { version: 1 | 2; dir: string }) {}

  /** Makes `name` (a path under the controller's mount) with a CPU quota per period, or none. */
  make(name: string, limit?: { quota: number; period: number }): string {
    const dir = `${this.c.dir}/${name}`;
    try {
      if (this.c.version === 2) writeFileSync(`${dir.slice(0, dir.lastIndexOf("/"))}/cgroup.subtree_control`, "+cpu");
      mkdirSync(dir);
      this.made.unshift(dir);
      if (limit && this.c.version === 1) {
        writeFileSync(`${dir}/cpu.cfs_period_us`, String(limit.period));
        writeFileSync(`${dir}/cpu.cfs_quota_us`, String(limit.quota));
      }
      if (limit && this.c.version === 2) writeFileSync(`${dir}/cpu.max`, `${limit.quota} ${limit.period}`);
    } catch (err) {
      throw new Error(`can't make the cgroup ${dir} with a CPU quota (this test needs root and a writable cgroup fs; uid ${process.getuid?.()}): ${(err as Error).message}`);
    }
    return dir;
  }

  /** Removes every cgroup made, innermost first (their processes have exited). */
  remove(): void {
    for (const dir of this.made.splice(0)) rmdirSync(dir);
  }
}

/** What a Node process reported after starting the runtime with no PE count. */
interface Started {
  numPes: number;
  /** charm.status()'s text: the caption line and the line saying where the count came from. */
  caption: string[];
  html: string;
  /** The process's /proc/self/cgroup, to check it ran where it was put. */
  cgroups: string;
}

const program = fileURLToPath(new URL("./fixtures/pe-count-report.mjs", import.meta.url));

/** Runs `command` in `cgroup` (its pid written to cgroup.procs before it starts), under `prefix` (e.g. taskset): its stdout. */
function runIn(cgroup: string | undefined, prefix: string[], command: string[]): Promise<string> {
  const { CHARM4TS_PES: _p, CHARM4TS_TRANSPORT: _t, CHARM4TS_HOSTS: _h, ...env } = process.env;
  const enter = cgroup ? `echo $$ > '${cgroup}/cgroup.procs' && ` : "";
  return new Promise((resolve, reject) => {
    execFile("sh", ["-c", `${enter}exec "$@"`, "sh", ...prefix, ...command], { cwd: root, env: { ...env, NO_COLOR: "1" }, timeout: 80_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command.join(" ")} in ${cgroup ?? "this cgroup"} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Runs the program in `cgroup` (its pid written to cgroup.procs before Node starts), under `prefix` (e.g. taskset). */
async function startIn(cgroup: string | undefined, prefix: string[] = []): Promise<Started> {
  const stdout = await runIn(cgroup, prefix, [process.execPath, program]);
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as Started;
}

const cores = cpus().length;

describeWith("cgroups")("the default PE count in a real cgroup and under taskset", () => {
  const name = `charm4ts-test-${process.pid}`;
  let cgroups: TestCgroup;

  beforeAll(() => {
    if (!controller) throw new Error("no cgroup fs with the cpu controller (/proc/self/mountinfo lists none), and CHARM4TS_CI=1 fails rather than skips");
    cgroups = new TestCgroup(controller);
  });
  afterAll(() => cgroups?.remove());

  it("a quota of 1 CPU (100000/100000): 1 PE, and charm.status() says it came from the quota", async () => {
    const dir = cgroups.make(`${name}-one`, { quota: 100000, period: 100000 });
    const started = await startIn(dir);
    expect(started.cgroups).toContain(`${name}-one`);
    const source = controller!.version === 1 ? "cgroup v1 cpu.cfs_quota_us 100000/100000 → 1" : "cgroup v2 cpu.max 100000/100000 → 1";
    expect(started.numPes).toBe(1);
    expect(started.caption).toEqual(["charm4ts runtime: 1 PEs, 0 chares", `number of PEs from: ${source}`]);
    expect(started.html).toContain(`number of PEs from: ${source}`);
  });

  it("the kernel in a cgroup with a quota of 1 CPU starts 1 PE and its charm.status() says why", { timeout: 90_000 }, async () => {
    const dir = cgroups.make(`${name}-kernel`, { quota: 100000, period: 100000 });
    const notebook = join(mkdtempSync(join(tmpdir(), "charm4ts-pe-count-")), "status.ipynb");
    const cell = (id: string, source: string) => ({ cell_type: "code", id, metadata: {}, source: [source], outputs: [], execution_count: null });
    writeFileSync(notebook, JSON.stringify({ cells: [cell("a", "charm.numPes()"), cell("b", "await charm.status()")], metadata: {}, nbformat: 4, nbformat_minor: 5 }));
    try {
      const out = await runIn(dir, [], [process.execPath, "dist/run-notebook.js", notebook]);
      const source = controller!.version === 1 ? "cgroup v1 cpu.cfs_quota_us 100000/100000 → 1" : "cgroup v2 cpu.max 100000/100000 → 1";
      expect(out).toContain("Out[1]: 1\n");
      expect(out).toContain(`Out[2]: charm4ts runtime: 1 PEs, 0 chares\nnumber of PEs from: ${source}\n`);
    } finally {
      rmSync(dirname(notebook), { recursive: true, force: true });
    }
  });

  it("half a CPU set on the parent, none on the process's own cgroup: the parent's limit, rounded up to 1 PE", async () => {
    cgroups.make(`${name}-half`, { quota: 50000, period: 100000 });
    const inner = cgroups.make(`${name}-half/inner`);
    const started = await startIn(inner);
    expect(started.cgroups).toContain(`${name}-half/inner`);
    expect(started.numPes).toBe(1);
    expect(started.caption[1]).toBe(`number of PEs from: ${controller!.version === 1 ? "cgroup v1 cpu.cfs_quota_us 50000/100000 → 1" : "cgroup v2 cpu.max 50000/100000 → 1"}`);
  });

  it("taskset -c 0: 1 PE from the affinity mask", async () => {
    const started = await startIn(undefined, ["taskset", "-c", "0"]);
    expect(started.numPes).toBe(1);
    expect(started.caption[1]).toBe(`number of PEs from: ${cores > 1 ? `CPU affinity: 1 of ${cores} cores` : "the number of cores (1)"}`);
  });

  it("a quota of 1.5 CPUs under taskset -c 0: the affinity mask is tighter", async () => {
    const dir = cgroups.make(`${name}-more`, { quota: 150000, period: 100000 });
    const started = await startIn(dir, ["taskset", "-c", "0"]);
    expect(started.numPes).toBe(1);
    expect(started.caption[1]).toBe(`number of PEs from: CPU affinity: 1 of ${cores} cores`);
  });

  it("a quota of 1.5 CPUs with every core allowed: 2 PEs from the quota, rounded up", async () => {
    const dir = cgroups.make(`${name}-two`, { quota: 150000, period: 100000 });
    const started = await startIn(dir);
    expect(started.numPes).toBe(2);
    expect(started.caption[1]).toBe(`number of PEs from: ${controller!.version === 1 ? "cgroup v1 cpu.cfs_quota_us 150000/100000 → 2" : "cgroup v2 cpu.max 150000/100000 → 2"}`);
  });
});
