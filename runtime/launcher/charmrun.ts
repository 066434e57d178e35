/**
 * `charmrun +p4 prog.ts 10`: runs a TypeScript program on 4 local PEs with no build step. The
 * program is compiled once (esbuild) and imported here and on every PE, so all load the same
 * code; `+pN` sets the number of PEs and is not passed to the program. `mpirun -np 4 charmrun
 * prog.ts 10` runs it on the launcher's 4 ranks (launched-job.ts); `charmrun +p4 ++nodelist FILE
 * prog.ts` starts the 4 PEs over ssh on the file's hosts (ssh-launch.ts).
 */
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { readFileSync, statSync } from "node:fs";
import { awaitJob, launchedJob, markLaunchedDriver } from "./launched-job.ts";
import { parseHostList, parseNodelist } from "./nodelist.ts";
import { startThreadsAhead } from "./threads-ahead.ts";
// The strategies' own list, so the usage names every one (a small module: no runtime loads with it).
import { balancerNames } from "../lb/strategies.ts";
import { distFile } from "../startup/package-root.ts";
import { endOnClosedPipe } from "../startup/closed-pipes.ts";

// `charmrun … | head -1`: a reader that closes the pipe ends the run quietly, as it ends a Unix tool.
endOnClosedPipe();

// Ranks may start seconds apart on a busy cluster; rank 0 compiles the program before publishing.
const JOB_TIMEOUT_MS = 120_000;

const ENTRY = Symbol.for("charm4ts.entryModule");
const STARTED = Symbol.for("charm4ts.started"); // set by charm.start (lifecycle.ts)

const USAGE = `usage: charmrun [+pN] [+processes | +mixed] [+ppn N] [+balancer NAME] [+restart DIR] [+checkpoint-every N] [++nodelist FILE | ++hosts a,b] program.ts [args…]
  +pN         number of PEs (default: CHARM4TS_PES, else the cores this process may use: CPU affinity and cgroup quota; with hosts, one per host)
  +processes  one process per PE, over ZeroMQ TCP (default: worker threads; or CHARM4TS_TRANSPORT)
  +mixed      half the PEs worker threads of this process, the others processes (CHARM4TS_LOCAL_PES sets how many are threads)
  +ppn N      PEs per process, one worker thread each, with +processes or +mixed (or CHARM4TS_PPN)
  +balancer   load-balancing strategy for arrays with useAtSync: ${balancerNames().join(", ")} (or CHARM4TS_BALANCER)
  +restart DIR  restore the checkpoint in DIR (made by charm.checkpoint, on any number of PEs) before main runs; main finds its named values in charm.restored()
  +checkpoint-every N  an in-memory checkpoint every N-th AtSync barrier of each load-balanced array, and recovery from a lost PE by itself, as charm.start's { checkpoint: { everySync: N } } (which wins; or CHARM4TS_CHECKPOINT_EVERY)
  ++nodelist FILE   start the PEs over ssh on the hosts of FILE (Charm++'s \`group main\` / \`host NAME\` lines, or one host a line)
  ++nodegroup NAME  the nodelist's group to use (default main)
  ++hosts a,b       start the PEs over ssh on these hosts (or CHARM4TS_HOSTS); PE process i runs on host i mod the number of hosts
  ++remote-shell CMD    the remote shell and its options (default ssh; or CHARM4TS_REMOTE_SHELL)
  ++remote-command CMD  what starts a PE on a host (default: this node and this charm4ts's bin/charm4ts-pe.mjs; or CHARM4TS_REMOTE_COMMAND)
  ++remote-cwd DIR      where it starts (default: this directory; or CHARM4TS_REMOTE_CWD)
`;

/** Whether the program path names a file, a directory, or nothing. */
function programKind(path: string): "file" | "directory" | "missing" {
  try {
    return statSync(path).isDirectory() ? "directory" : "file";
  } catch {
    return "missing";
  }
}

function usage(): never {
  process.stderr.write(USAGE);
  process.exit(2);
}

// Runtime flags that take a value, and the environment variable each one sets.
const VALUED: Record<string, string | undefined> = {
  "+balancer": "CHARM4TS_BALANCER",
  "+ppn": "CHARM4TS_PPN",
  "+restart": "CHARM4TS_RESTART",
  "+checkpoint-every": "CHARM4TS_CHECKPOINT_EVERY",
  "++nodelist": undefined,
  "++nodegroup": undefined,
  "++hosts": "CHARM4TS_HOSTS",
  "++remote-shell": "CHARM4TS_REMOTE_SHELL",
  "++remote-command": "CHARM4TS_REMOTE_COMMAND",
  "++remote-cwd": "CHARM4TS_REMOTE_CWD",
};

const argv = process.argv.slice(2);
// The runtime's own flags come before the program; what follows the program is its own.
const valued = (flag: string | undefined) => flag !== undefined && Object.hasOwn(VALUED, flag);
const start = argv.findIndex((a, i) => !a.startsWith("+") && !valued(argv[i - 1]));
const flags = start < 0 ? argv : argv.slice(0, start);
const rest = start < 0 ? [] : argv.slice(start);
const values = new Map<string, string>();
let pes: string | undefined;
let processes: string | false = false;
for (let i = 0; i < flags.length; i++) {
  const flag = flags[i]!;
  if (/^\+p\d+$/.test(flag)) pes = flag;
  else if (flag === "+processes" || flag === "+mixed") processes = flag;
  else if (valued(flag)) {
    const value = flags[++i];
    if (value === undefined) { process.stderr.write(`charmrun: ${flag} needs a value\n`); usage(); }
    values.set(flag, value);
  } else {
    // `+p 3`: the count parsed as the program, `+p` left alone; say how Charm++ spells it.
    const hint = flag === "+p" ? `: write the number of PEs with no space: +p${/^\d+$/.test(rest[0] ?? "") ? rest[0] : "3"}` : "";
    process.stderr.write(`charmrun: unknown option ${flag}${hint}\n`);
    usage();
  }
}
// Refused here, before compiling, with the flag's own name (the runtime checks it again, as the variable).
const every = values.get("+checkpoint-every");
if (every !== undefined && !(/^\d+$/.test(every) && Number(every) >= 1)) { process.stderr.write(`charmrun: +checkpoint-every needs a positive integer N (a checkpoint every N-th AtSync barrier), got ${JSON.stringify(every)}\n`); usage(); }
if (values.has("++nodelist") && values.has("++hosts")) { process.stderr.write("charmrun: give ++nodelist or ++hosts, not both\n"); usage(); }
const program = rest[0];
if (!program || program === "--help" || program === "-h") usage();
// Said here in the launcher's words: the compiler's would be a raw ENOENT or EISDIR from stat.
const kind = programKind(program);
if (kind !== "file") {
  process.stderr.write(kind === "missing" ? `charmrun: no such program: ${program}\n` : `charmrun: ${program} is a directory; give a program file (.ts or .js)\n`);
  process.exit(2);
}
if (pes) process.env.CHARM4TS_PES = pes.slice(2);
if (processes) process.env.CHARM4TS_TRANSPORT = processes.slice(1);
for (const [flag, value] of values) {
  const variable = VALUED[flag];
  if (variable) process.env[variable] = value;
}
try {
  const nodelist = values.get("++nodelist");
  if (nodelist) process.env.CHARM4TS_HOSTS = parseNodelist(readFileSync(nodelist, "utf8"), values.get("++nodegroup"), nodelist).join(",");
  // One PE per host unless +pN (or CHARM4TS_PES) says how many.
  if (process.env.CHARM4TS_HOSTS && !pes && !process.env.CHARM4TS_PES) process.env.CHARM4TS_PES = String(parseHostList(process.env.CHARM4TS_HOSTS).length);
} catch (err) {
  process.stderr.write(`charmrun: ${(err as Error).message}\n`);
  process.exit(2);
}

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
    await runPeProcess({ connect: address, secret, pes: Number(process.env.CHARM4TS_PPN || 1) }); // +ppn N: N PEs per rank
  } else {
    if (job) markLaunchedDriver(job);
    // Thread PEs boot while the program compiles and loads; its charm.start adopts them (threads-ahead.ts).
    else startThreadsAhead();
    // The runtime the program imports loads while it compiles, and before source maps are on:
    // as on a PE (pe/pe-boot.ts), its bundles' maps (~1 MB) are never read and parsed.
    const runtime = import(pathToFileURL(distFile("index.js")).href);
    // The compiler (and node:crypto) loads only now, once the PE threads are on their way.
    const { compileProgram } = await import("./compile.ts");
    const url = await compileProgram(pathToFileURL(file).href);
    (globalThis as any)[ENTRY] = url;
    await runtime;
    // Errors then name the program's .ts lines (see pe/pe-boot.ts).
    process.setSourceMapsEnabled(true);
    await import(url);
    // A program that forgot `charm.start(main)` ended at once, exit 0, with no output: say why.
    process.once("beforeExit", () => {
      if (!(globalThis as any)[STARTED]) process.stderr.write(`charmrun: ${program} ended without calling charm.start(main), so nothing ran on the PEs; end the program with charm.start(main) (main runs on the driver once the PEs are up)\n`);
    });
  }
} catch (err) {
  process.stderr.write(`charmrun: ${(err as Error).message ?? err}\n`);
  process.exit(1);
}
