/**
 * What a PE process learns from the launcher that started it: its rank, from the variables
 * mpirun/mpiexec (Open MPI, MPICH/PMI, PMIx) and Slurm's srun set, or from the driver when the
 * driver spawned it (CHARM4TS_RANK, which wins).
 */

/** Environment variables that carry a process's rank, most specific first. */
export const RANK_VARIABLES = ["CHARM4TS_RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"] as const;

/** This process's rank from its environment, or undefined when no launcher set one. */
export function rankFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  for (const name of RANK_VARIABLES) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    const rank = Number(value);
    if (!Number.isInteger(rank) || rank < 0) throw new Error(`${name}=${value} is not a rank (a whole number from 0)`);
    return rank;
  }
  return undefined;
}

/** An environment for a child process without any launcher's rank (so it takes the one given). */
export function withoutRanks(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of RANK_VARIABLES) delete out[name];
  return out;
}
