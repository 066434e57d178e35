/**
 * `charm4ts-pe --connect tcp://HOST:PORT`: a process that hosts one PE and joins a runtime over
 * ZeroMQ TCP. It binds its receiving socket, says hello to the driver's rendezvous socket with
 * the runtime's secret and its rank (from the launcher's environment, if any), gets its PE
 * number and everyone's addresses, loads the program's modules like a PE thread does, and
 * handles messages until the driver says stop — or until it loses the driver.
 */
import { hostname } from "node:os";
import { DRIVER } from "../protocol/ids.ts";
import { errorToData } from "../protocol/errors.ts";
import { ZmqTransport } from "../transport/zmq-transport.ts";
import { bootPe } from "./pe-boot.ts";
import { joinRuntime } from "./rendezvous.ts";
import { rankFromEnv } from "./launcher-env.ts";
import { SECRET_ENV, readSecretFile } from "./secret.ts";
import { localAddressToward } from "./local-address.ts";
import { markPeProcess, REPORTED_DEATH_EXIT_CODE } from "./role.ts";

const USAGE = `usage: charm4ts-pe --connect tcp://HOST:PORT [--secret-file FILE] [--bind ADDRESS]
  --connect      the driver's rendezvous address (or CHARM4TS_CONNECT)
  --secret-file  a file (mode 0600) holding the runtime's secret; else ${SECRET_ENV} in the environment
  --bind         the address of this host's interface that other PEs reach it on
                 (default: 127.0.0.1 for a driver on loopback, else the interface toward the driver)
The rank comes from CHARM4TS_RANK, OMPI_COMM_WORLD_RANK, PMI_RANK, PMIX_RANK or SLURM_PROCID;
without one, PEs are numbered in the order they join.
`;

const JOIN_TIMEOUT_MS = 60_000;

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
const known = new Set(["--connect", "--secret-file", "--bind"]);
const unknown = args.find((a, i) => a.startsWith("--") && !known.has(a) && !known.has(args[i - 1]!));
if (unknown) fail(`unknown option ${unknown}\n${USAGE}`, 2);

const rendezvous = option(args, "--connect") ?? process.env.CHARM4TS_CONNECT;
if (!rendezvous || !/^tcp:\/\/.+:\d+$/.test(rendezvous)) fail(`--connect tcp://HOST:PORT is required (the driver prints it)\n${USAGE}`, 2);
const secretFile = option(args, "--secret-file");
let secret: string;
try {
  secret = secretFile ? readSecretFile(secretFile) : process.env[SECRET_ENV] ?? fail(`no secret: give --secret-file FILE (mode 0600), or set ${SECRET_ENV}`, 2);
} catch (err) {
  fail((err as Error).message, 2);
}
// Children this process may start must not inherit it.
delete process.env[SECRET_ENV];

let rank: number | undefined;
try {
  rank = rankFromEnv();
} catch (err) {
  fail((err as Error).message, 2);
}

const transport = await ZmqTransport.bind({ host: option(args, "--bind") ?? (await localAddressToward(rendezvous)), onError: (e) => report(e) });
let joined;
try {
  joined = await joinRuntime(rendezvous, { secret, rank, address: transport.address, host: hostname(), pid: process.pid }, JOIN_TIMEOUT_MS);
} catch (err) {
  transport.close();
  fail((err as Error).message);
}
const { config, peers, socket } = joined;
transport.join(config.pe, peers.map((address, i) => [i - 1, address]));
markPeProcess();

// An exception outside any entry method ends this PE, as it ends a PE thread: the driver hears
// why first (the exit code says it already knows).
let stopping = false;
function report(err: Error): void {
  transport.send(DRIVER, { t: "report", e: errorToData(err, config.pe) });
}
process.on("uncaughtException", (err) => {
  if (stopping) return;
  stopping = true;
  transport.send(DRIVER, { t: "report", e: { ...errorToData(err, config.pe), message: `PE ${config.pe} died: ${err?.message ?? String(err)}` } });
  void transport.drained().then(() => process.exit(REPORTED_DEATH_EXIT_CODE));
});

// Without its driver a PE has nothing to do: a closed rendezvous connection (the driver exited
// or was killed, or its host stopped answering heartbeats) ends this process.
socket.events.on("disconnect", () => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`charm4ts-pe: PE ${config.pe} lost the driver at ${rendezvous}; exiting\n`);
  process.exit(1);
});

await bootPe(config, transport, () => {
  stopping = true;
  void transport.drained().then(() => {
    transport.close();
    socket.close();
    process.exit(0);
  });
});
