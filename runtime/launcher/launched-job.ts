/**
 * `mpirun -np N charmrun prog.ts` (or `srun -n N`, `mpiexec`): every rank runs the same command.
 * Rank 0 becomes the driver (and starts PE 0 beside it); ranks 1 … N-1 become PE processes that
 * join it. They find it through a job file only their user can read (mode 0600, in
 * ~/.charm4ts/jobs — a home directory clusters share — or CHARM4TS_JOB_DIR): rank 0 writes the
 * rendezvous address and the runtime's secret there, the others wait for it to appear.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { rankFromEnv } from "../startup/launcher-env.ts";
import { CharmError } from "../protocol/errors.ts";
import type { ProcessOptions } from "../driver/process-pes.ts";

/** A run started by a launcher: this process's rank, the number of ranks, the job's id. */
export interface LaunchedJob {
  rank: number;
  size: number;
  id: string;
}

/** What rank 0 publishes for the others. */
export interface JobRendezvous {
  address: string;
  secret: string;
}

const SIZE_VARIABLES = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS"] as const;

/**
 * The launcher's job, when this process is one of several ranks (a single rank is an ordinary
 * run); undefined otherwise, and for PE processes our own driver spawned (CHARM4TS_RANK).
 */
export function launchedJob(env: NodeJS.ProcessEnv = process.env): LaunchedJob | undefined {
  if (env.CHARM4TS_RANK !== undefined) return undefined;
  const rank = rankFromEnv(env);
  if (rank === undefined) return undefined;
  const sizeName = SIZE_VARIABLES.find((name) => env[name]);
  const size = sizeName ? Number(env[sizeName]) : NaN;
  if (!Number.isInteger(size) || size < 1) return undefined;
  if (size === 1) return undefined;
  const id = env.CHARM4TS_JOB ?? env.PMIX_NAMESPACE ?? env.OMPI_MCA_ess_base_jobid ?? (env.SLURM_JOB_ID ? `slurm-${env.SLURM_JOB_ID}.${env.SLURM_STEP_ID ?? "0"}` : undefined) ?? env.PMI_JOBID;
  if (!id) {
    throw new Error(`rank ${rank} of ${size}, but the launcher gave no job id to meet under: set CHARM4TS_JOB to a name unique to this run for every rank (mpirun -x CHARM4TS_JOB=… / mpiexec -genv CHARM4TS_JOB …)`);
  }
  return { rank, size, id };
}

/** Where a job's rendezvous file lives. */
export function jobFile(job: LaunchedJob, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.CHARM4TS_JOB_DIR ?? join(homedir(), ".charm4ts", "jobs");
  return join(dir, `${job.id.replace(/[^\w.-]/g, "_")}.json`);
}

/** Rank 0: writes the rendezvous file (mode 0600, atomically: readers never see half of it). */
export function publishJob(job: LaunchedJob, rendezvous: JobRendezvous): string {
  const file = jobFile(job);
  mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify({ ...rendezvous, size: job.size, pid: process.pid }), { mode: 0o600 });
  renameSync(partial, file);
  return file;
}

/** Rank 0: removes the rendezvous file at the end of the run. */
export function unpublishJob(job: LaunchedJob): void {
  rmSync(jobFile(job), { force: true });
}

/** Ranks 1 … N-1: waits for rank 0's rendezvous file (checking every 50 ms) up to `timeoutMs`. */
export async function awaitJob(job: LaunchedJob, timeoutMs: number): Promise<JobRendezvous> {
  const file = jobFile(job);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const data = JSON.parse(readFileSync(file, "utf8")) as JobRendezvous & { size: number };
      if (data.size !== job.size) throw new Error(`${file} is for a run of ${data.size} ranks, this one has ${job.size}: a stale file? remove it, or set CHARM4TS_JOB`);
      return { address: data.address, secret: data.secret };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" && !(err instanceof SyntaxError)) throw err;
    }
    if (Date.now() > deadline) {
      throw new Error(`rank ${job.rank}: rank 0 didn't publish ${file} within ${timeoutMs / 1000} s; is ${join(file, "..")} shared by every host (else set CHARM4TS_JOB_DIR to a shared directory)?`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// charmrun on rank 0 leaves the job here for charm.start (a global: see charm.ts's ENTRY).
const LAUNCHED = Symbol.for("charm4ts.launchedJob");

/** charmrun on rank 0: this run's PEs are the launcher's ranks (charm.start reads it once). */
export function markLaunchedDriver(job: LaunchedJob): void {
  (globalThis as Record<symbol, unknown>)[LAUNCHED] = job;
}

/**
 * The launcher's ranks this start would get (its PEs), checked as launchedStart checks them but
 * without taking them: undefined when this isn't rank 0 of a launcher run.
 */
export function launchedRanks(numPes: number | undefined): number | undefined {
  const job = (globalThis as Record<symbol, unknown>)[LAUNCHED] as LaunchedJob | "used" | undefined;
  if (job === undefined) return undefined;
  if (job === "used") throw new CharmError("the ranks a launcher started join one runtime only: after charm.shutdown() a launcher run can't start again");
  if (numPes !== undefined && numPes !== job.size) throw new CharmError(`this run has ${job.size} ranks from its launcher, so ${job.size} PEs; drop numPes (${numPes}) or launch ${numPes} ranks`);
  return job.size;
}

/**
 * How charm.start starts the PEs of a launcher run: one per rank, PE 0 as a process beside the
 * driver on rank 0, the others joining from their ranks (bound to CHARM4TS_BIND, an interface
 * address or 0.0.0.0 for all, or else loopback, which serves ranks on this host only).
 * Undefined when this isn't rank 0 of a launcher run.
 */
export function launchedStart(numPes: number | undefined): { numPes: number; options: ProcessOptions } | undefined {
  const slot = globalThis as Record<symbol, unknown>;
  if (launchedRanks(numPes) === undefined) return undefined;
  const job = slot[LAUNCHED] as LaunchedJob;
  slot[LAUNCHED] = "used";
  return {
    numPes: job.size,
    options: {
      spawn: [0],
      announce: (address, secret) => { publishJob(job, { address, secret }); },
      onStop: () => unpublishJob(job),
    },
  };
}
