/**
 * `charmrun +p4 prog.ts 10`: runs a TypeScript program on 4 local PEs with no build step. The
 * program is compiled once (esbuild) and imported here and on every PE, so all load the same
 * code; `+pN` sets the number of PEs and is not passed to the program. `mpirun -np 4 charmrun
 * prog.ts 10` runs it on the launcher's 4 ranks (launched-job.ts).
 */
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { compileProgram } from "./compile.ts";
import { awaitJob, launchedJob, markLaunchedDriver } from "./launched-job.ts";

// Ranks may start seconds apart on a busy cluster; rank 0 compiles the program before publishing.
const JOB_TIMEOUT_MS = 120_000;

const ENTRY = Symbol.for("charm4ts.entryModule");

function usage(): never {
  process.stderr.write("usage: charmrun [+pN] [+processes] [+balancer NAME] program.ts [args…]\n  +pN         number of PEs (default: CHARM4TS_PES or the number of cores)\n  +processes  one process per PE, over ZeroMQ TCP (default: worker threads; or CHARM4TS_TRANSPORT)\n  +balancer   load-balancing strategy for arrays with useAtSync: greedy, refine, rotate, random, none (or CHARM4TS_BALANCER)\n");
  process.exit(2);
}

const argv = process.argv.slice(2);
// The runtime's own flags come before the program; what follows the program is its own.
const start = argv.findIndex((a, i) => !a.startsWith("+") && argv[i - 1] !== "+balancer");
const flags = start < 0 ? argv : argv.slice(0, start);
const rest = start < 0 ? [] : argv.slice(start);
const pes = flags.find((a) => /^\+p\d+$/.test(a));
const processes = flags.includes("+processes");
const balancer = flags.includes("+balancer") ? flags[flags.indexOf("+balancer") + 1] : undefined;
const unknown = flags.find((a, i) => a !== pes && a !== "+processes" && a !== "+balancer" && flags[i - 1] !== "+balancer");
if (unknown !== undefined) { process.stderr.write(`charmrun: unknown option ${unknown}\n`); usage(); }
const program = rest[0];
if (!program || program === "--help" || program === "-h" || (flags.includes("+balancer") && !balancer)) usage();
if (pes) process.env.CHARM4TS_PES = pes.slice(2);
if (processes) process.env.CHARM4TS_TRANSPORT = "processes";
if (balancer) process.env.CHARM4TS_BALANCER = balancer;

const file = resolve(program);
// The program sees argv as if run directly: [node, program, ...its args].
process.argv = [process.argv[0]!, file, ...rest.slice(1)];
try {
  // Under mpirun/srun every rank runs this command: rank 0 runs the program (its driver), the
  // other ranks become its PEs, meeting it through the job file rank 0 publishes.
  const job = launchedJob();
  if (job && job.rank > 0) {
    const { address, secret } = await awaitJob(job, JOB_TIMEOUT_MS);
    const { runPeProcess } = await import("../pe/pe-process.ts"); // ZeroMQ only where PEs are processes
    await runPeProcess({ connect: address, secret });
  } else {
    if (job) markLaunchedDriver(job);
    const url = await compileProgram(pathToFileURL(file).href);
    (globalThis as any)[ENTRY] = url;
    await import(url);
  }
} catch (err) {
  process.stderr.write(`charmrun: ${(err as Error).message ?? err}\n`);
  process.exit(1);
}
