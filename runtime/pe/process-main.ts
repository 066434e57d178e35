/**
 * `charm4ts-pe --connect tcp://HOST:PORT`: the command that runs one PE process (pe-process.ts)
 * and joins a runtime. The secret comes from a 0600 file or the environment, never from argv.
 */
import { rankFromEnv } from "../startup/launcher-env.ts";
import { SECRET_ENV, readSecretFile, readSecretStdin } from "../startup/secret.ts";
import { runPeProcess } from "./pe-process.ts";

const USAGE = `usage: charm4ts-pe --connect tcp://HOST:PORT [--secret-file FILE | --secret-stdin] [--bind ADDRESS] [--pes N]
  --connect      the driver's rendezvous address (or CHARM4TS_CONNECT)
  --pes          how many PEs this process hosts, one worker thread each (default 1)
  --secret-file  a file (mode 0600) holding the runtime's secret; else ${SECRET_ENV} in the environment
  --secret-stdin read the secret from the first line of stdin (ssh HOST charm4ts-pe … --secret-stdin < FILE)
  --bind         the address of this host's interface that other PEs reach it on
                 (default: 127.0.0.1 for a driver on loopback, else the interface toward the driver)
The rank (the process's) comes from CHARM4TS_RANK, OMPI_COMM_WORLD_RANK, PMI_RANK, PMIX_RANK or
SLURM_PROCID; without one, processes are numbered in the order they join.
`;

function fail(message: string, code = 1): never {
  process.stderr.write(`charm4ts-pe: ${message}\n`);
  process.exit(code);
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith("--")) fail(`${name} needs a value\n${USAGE}`, 2);
  return value;
}

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const known = new Set(["--connect", "--secret-file", "--bind", "--pes"]);
const flags = new Set(["--secret-stdin"]); // options without a value
const unknown = args.find((a, i) => a.startsWith("--") && !known.has(a) && !flags.has(a) && !known.has(args[i - 1]!));
if (unknown) fail(`unknown option ${unknown}\n${USAGE}`, 2);

const rendezvous = option(args, "--connect") ?? process.env.CHARM4TS_CONNECT;
if (!rendezvous || !/^tcp:\/\/.+:\d+$/.test(rendezvous)) fail(`--connect tcp://HOST:PORT is required (the driver's rendezvous address)\n${USAGE}`, 2);
const secretFile = option(args, "--secret-file");
let secret: string;
try {
  secret = secretFile ? readSecretFile(secretFile) : args.includes("--secret-stdin") ? await readSecretStdin() : process.env[SECRET_ENV] ?? fail(`no secret: give --secret-file FILE (mode 0600), or set ${SECRET_ENV}`, 2);
} catch (err) {
  fail((err as Error).message, 2);
}
const pes = Number(option(args, "--pes") ?? 1);
if (!Number.isInteger(pes) || pes < 1) fail(`--pes must be a whole number from 1, got ${option(args, "--pes")}\n${USAGE}`, 2);
try {
  rankFromEnv(); // a bad rank variable is a usage error, said before connecting
} catch (err) {
  fail((err as Error).message, 2);
}

try {
  await runPeProcess({ connect: rendezvous, secret, bind: option(args, "--bind"), pes });
} catch (err) {
  fail((err as Error).message);
}
