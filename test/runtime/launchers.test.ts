// Runs started by a cluster launcher: every rank runs `charmrun prog.ts`, rank 0 becomes the
// driver and the others its PEs. Open MPI's real mpirun runs the README's command, and so do
// MPICH's real mpiexec (Hydra: ranks from PMI_RANK) and Slurm's real srun on a one-node cluster
// the tests start (slurm-cluster.ts). mpirun and srun are also imitated the way they start a
// job (same command, rank/size/job variables in each rank's environment), with real processes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, readdirSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchedJob } from "../../runtime/launcher/launched-job.ts";
import { startSlurm, type SlurmCluster } from "./slurm-cluster.ts";
import { describeWith } from "../system-tools.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `size` ranks of `charmrun args…`, each with the launcher variables `envOf(rank)`. */
function launch(size: number, envOf: (rank: number) => Record<string, string>, ...args: string[]): { jobDir: string; ranks: Promise<Ran[]> } {
  const jobDir = mkdtempSync(join(tmpdir(), "charm4ts-jobs-"));
  dirs.push(jobDir);
  const ranks = Array.from({ length: size }, (_, rank) => new Promise<Ran>((resolve) => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, CHARM4TS_JOB_DIR: jobDir, ...envOf(rank) };
    const child = execFile(process.execPath, ["bin/charmrun.mjs", ...args], { cwd: root, env, timeout: 60_000 }, (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
  }));
  return { jobDir, ranks: Promise.all(ranks) };
}

const openMpi = (size: number, job: string) => (rank: number) => ({ OMPI_COMM_WORLD_RANK: String(rank), OMPI_COMM_WORLD_SIZE: String(size), PMIX_NAMESPACE: job });
const slurm = (size: number, job: string) => (rank: number) => ({ SLURM_PROCID: String(rank), SLURM_NTASKS: String(size), SLURM_JOB_ID: job, SLURM_STEP_ID: "0" });

/** The first of `names` on PATH (their suites run only where the launcher is: test/system-tools.ts). */
function launcherPath(pkg: string, ...names: string[]): string {
  const dirs = (process.env.PATH ?? "").split(delimiter);
  const found = names.flatMap((name) => dirs.map((dir) => join(dir, name))).find((file) => existsSync(file));
  if (!found) throw new Error(`${names.join(" or ")} is not on PATH: these tests run the real launcher (apt-get install ${pkg}, as .ci/run does)`);
  return found;
}

/** Runs `launcher launcherArgs… npx charmrun args…` with `env` added, as a user would on one host. */
async function launcherRun(launcher: string, launcherArgs: string[], env: Record<string, string>, args: string[]): Promise<Ran> {
  const jobDir = mkdtempSync(join(tmpdir(), "charm4ts-jobs-"));
  dirs.push(jobDir);
  // Local ranks inherit the launcher's environment: the job directory reaches every rank.
  const all = { PATH: process.env.PATH, HOME: process.env.HOME, CHARM4TS_JOB_DIR: jobDir, ...env };
  const ran = await new Promise<Ran>((resolve) => {
    const child = execFile(launcher, [...launcherArgs, "npx", "charmrun", ...args], { cwd: root, env: all, timeout: 60_000 }, (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
  });
  expect(readdirSync(jobDir)).toEqual([]); // rank 0 removed its job file
  return ran;
}

/** Runs `mpirun --allow-run-as-root --oversubscribe -np N npx charmrun args…` (the README's line; root in CI, 2 cores). */
function mpirun(np: number, ...args: string[]): Promise<Ran> {
  // Debian names Open MPI's own binary mpirun.openmpi; plain mpirun is whichever MPI the alternatives chose.
  const mpi = launcherPath("openmpi-bin", "mpirun.openmpi", "mpirun");
  return launcherRun(mpi, ["--allow-run-as-root", "--oversubscribe", "-np", String(np)], {}, args);
}

/**
 * Runs `mpiexec.mpich -prepend-rank -n N npx charmrun args…`: MPICH's Hydra, which gives ranks
 * PMI_RANK and PMI_SIZE but no job id, so the run names itself with CHARM4TS_JOB (unless `job`
 * is undefined). -prepend-rank marks each line with the rank that printed it.
 */
function mpiexecMpich(np: number, job: string | undefined, ...args: string[]): Promise<Ran> {
  const mpi = launcherPath("mpich", "mpiexec.mpich");
  return launcherRun(mpi, ["-prepend-rank", "-n", String(np)], job ? { CHARM4TS_JOB: job } : {}, args);
}

// Open MPI gives ranks a pseudo-terminal, so Node colours what console.log prints.
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "").replace(/\r/g, "");

describeWith("mpirun")("under Open MPI's mpirun (Debian's openmpi-bin)", () => {
  it("mpirun -np 2 npx charmrun examples/fib.ts 10 prints Fib(10) = 55 and exits 0", async () => {
    const r = await mpirun(2, "examples/fib.ts", "10");
    expect(plain(r.stdout).trim()).toBe("Fib(10) = 55");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("mpirun -np 2 npx charmrun +ppn 2 examples/hello.ts: 4 PEs, 2 per rank, every chare says hello", async () => {
    const r = await mpirun(2, "+ppn", "2", "examples/hello.ts");
    const lines = plain(r.stdout).trim().split("\n").sort();
    expect(lines).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `Hello from chare: ${i} on PE ${Math.floor(i / 2)}`).sort());
    expect(r.code).toBe(0);
  });

  it("mpirun -np 3 npx charmrun examples/hello.ts: 3 PEs, one per rank, every chare says hello", async () => {
    const r = await mpirun(3, "examples/hello.ts");
    const lines = plain(r.stdout).trim().split("\n").sort();
    const expected = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `Hello from chare: ${i} on PE ${Math.floor(i / 3)}`).sort();
    expect(lines).toEqual(expected);
    expect(r.code).toBe(0);
  });
});

describeWith("mpiexec.mpich")("under MPICH's mpiexec (Debian's mpich, Hydra)", () => {
  it("mpiexec.mpich -n 2 npx charmrun examples/fib.ts 10, with CHARM4TS_JOB, prints Fib(10) = 55 and exits 0", async () => {
    const r = await mpiexecMpich(2, "mpich-fib", "examples/fib.ts", "10");
    expect(plain(r.stdout).trim()).toBe("[0] Fib(10) = 55");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("each rank is the PE its PMI_RANK says: rank 1's lines are PE 1's chares", async () => {
    const r = await mpiexecMpich(2, "mpich-hello", "examples/hello.ts");
    const lines = plain(r.stdout).trim().split("\n").sort();
    expect(lines).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `[${i < 4 ? 0 : 1}] Hello from chare: ${i} on PE ${i < 4 ? 0 : 1}`));
    expect(r.code).toBe(0);
  });

  it("without CHARM4TS_JOB (Hydra sets no job id), every rank says which variable to set", async () => {
    const r = await mpiexecMpich(2, undefined, "examples/fib.ts", "10");
    for (const rank of [0, 1]) expect(plain(r.stderr)).toContain(`[${rank}] charmrun: rank ${rank} of 2, but the launcher gave no job id to meet under: set CHARM4TS_JOB`);
    expect(r.code).not.toBe(0);
  });
});

describeWith("slurm")("under Slurm's srun (Debian's slurmd and slurmctld, one node started for these tests)", () => {
  let slurm: SlurmCluster | undefined;
  beforeAll(async () => { slurm = await startSlurm(); });
  afterAll(async () => { await slurm?.stop(); });

  it("srun -n 2 npx charmrun examples/fib.ts 10 prints Fib(10) = 55 and exits 0", async () => {
    const r = await launcherRun(slurm!.srun, ["-n", "2"], slurm!.env, ["examples/fib.ts", "10"]);
    expect(r.stdout.trim()).toBe("Fib(10) = 55");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("each task is the PE its SLURM_PROCID says, meeting under the job and step id: task 1's lines are PE 1's chares", async () => {
    const r = await launcherRun(slurm!.srun, ["-n", "2", "--label"], slurm!.env, ["examples/hello.ts"]);
    const lines = r.stdout.trim().split("\n").sort();
    expect(lines).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${i < 4 ? 0 : 1}: Hello from chare: ${i} on PE ${i < 4 ? 0 : 1}`));
    expect(r.code).toBe(0);
  });
});

describe("launched by mpirun or srun (charmrun on every rank)", () => {
  it("mpirun -np 3 charmrun fib.ts 10: rank 0 prints the result, every rank exits 0, the job file is gone", async () => {
    const { jobDir, ranks } = launch(3, openMpi(3, "ompi-fib"), "examples/fib.ts", "10");
    const [r0, r1, r2] = await ranks;
    expect(r0!.stderr).toBe("");
    expect(r0!.stdout.trim()).toBe("Fib(10) = 55");
    expect([r0!.code, r1!.code, r2!.code]).toEqual([0, 0, 0]);
    expect(readdirSync(jobDir)).toEqual([]);
  });

  it("the ranks are the PEs: each prints what its own PE's chares print", async () => {
    const { ranks } = launch(2, slurm(2, "4242"), "examples/hello.ts");
    const [r0, r1] = await ranks;
    const lines = (r: Ran) => r.stdout.trim().split("\n").sort();
    expect(lines(r0!)).toEqual([0, 1, 2, 3].map((i) => `Hello from chare: ${i} on PE 0`));
    expect(lines(r1!)).toEqual([4, 5, 6, 7].map((i) => `Hello from chare: ${i} on PE 1`));
    expect([r0!.code, r1!.code]).toEqual([0, 0]);
  });

  it("with +ppn 2 each rank hosts 2 PEs: rank 0's process PEs 0-1, rank 1 PEs 2-3", async () => {
    const { ranks } = launch(2, openMpi(2, "ompi-ppn"), "+ppn", "2", "examples/hello.ts");
    const [r0, r1] = await ranks;
    const lines = (r: Ran) => r.stdout.trim().split("\n").sort();
    expect(r0!.stderr).toBe("");
    expect(lines(r0!)).toEqual([0, 1, 2, 3].map((i) => `Hello from chare: ${i} on PE ${Math.floor(i / 2)}`));
    expect(lines(r1!)).toEqual([4, 5, 6, 7].map((i) => `Hello from chare: ${i} on PE ${Math.floor(i / 2)}`));
    expect([r0!.code, r1!.code]).toEqual([0, 0]);
  });

  it("bound to an interface (CHARM4TS_BIND), ranks meet over CURVE with keys from the job file", async () => {
    // The machine's first non-loopback IPv4 address; without one, loopback (CURVE there too).
    const ip = Object.values(networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    const net: Record<string, string> = ip ? { CHARM4TS_BIND: ip } : {};
    const { ranks } = launch(2, (rank) => ({ ...openMpi(2, "ompi-curve")(rank), ...net }), "examples/fib.ts", "8");
    const [r0, r1] = await ranks;
    expect(r0!.stdout.trim()).toBe("Fib(8) = 21");
    expect([r0!.code, r1!.code]).toEqual([0, 0]);
  });

  it("without a job id to meet under, each rank says which variable to set", async () => {
    const { ranks } = launch(2, (rank) => ({ PMI_RANK: String(rank), PMI_SIZE: "2" }), "examples/hello.ts");
    for (const r of await ranks) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("set CHARM4TS_JOB to a name unique to this run");
    }
  });
});

describe("launchedJob", () => {
  it("reads rank, size and job id from Open MPI, PMI and Slurm variables", () => {
    expect(launchedJob({ OMPI_COMM_WORLD_RANK: "1", OMPI_COMM_WORLD_SIZE: "4", PMIX_NAMESPACE: "ns" })).toEqual({ rank: 1, size: 4, id: "ns" });
    expect(launchedJob({ PMI_RANK: "0", PMI_SIZE: "2", CHARM4TS_JOB: "mine" })).toEqual({ rank: 0, size: 2, id: "mine" });
    expect(launchedJob({ SLURM_PROCID: "3", SLURM_NTASKS: "8", SLURM_JOB_ID: "77", SLURM_STEP_ID: "2" })).toEqual({ rank: 3, size: 8, id: "slurm-77.2" });
  });

  it("is no launcher run for a single rank, without a size, or in a PE our driver spawned", () => {
    expect(launchedJob({ SLURM_PROCID: "0", SLURM_NTASKS: "1", SLURM_JOB_ID: "1" })).toBeUndefined(); // `srun --pty bash`, then a notebook
    expect(launchedJob({ PMIX_RANK: "0" })).toBeUndefined();
    expect(launchedJob({ CHARM4TS_RANK: "2", OMPI_COMM_WORLD_RANK: "0", OMPI_COMM_WORLD_SIZE: "2" })).toBeUndefined();
    expect(launchedJob({})).toBeUndefined();
  });

  it("rejects a rank that isn't a whole number, naming the variable", () => {
    expect(() => launchedJob({ OMPI_COMM_WORLD_RANK: "x", OMPI_COMM_WORLD_SIZE: "2" })).toThrow("OMPI_COMM_WORLD_RANK=x is not a rank");
  });
});
