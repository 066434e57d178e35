/**
 * The driver's side of PEs in processes: spawns one `charm4ts-pe` process per PE on this host,
 * gathers them on a rendezvous socket (each shows the runtime's secret, passed in its
 * environment), tells each its PE number and everyone's addresses, waits for every "ready",
 * and stops them in order. PE-to-PE messages then go directly between the processes over
 * ZeroMQ TCP (transport/zmq-transport.ts); the driver stays in this process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { DRIVER } from "../protocol/ids.ts";
import { RemoteError } from "../protocol/errors.ts";
import type { ErrorData } from "../protocol/messages.ts";
import { ZmqTransport } from "../transport/zmq-transport.ts";
import { Runtime, type RuntimeHooks } from "../core/runtime.ts";
import { distFile } from "./package-root.ts";
import type { PeSetup } from "./driver.ts";
import { Rendezvous } from "./rendezvous.ts";
import { SECRET_ENV, newSecret } from "./secret.ts";
import { withoutRanks } from "./launcher-env.ts";
import { REPORTED_DEATH_EXIT_CODE } from "./role.ts";

/** A running set of PE processes and the driver's runtime that talks to them. */
export interface ProcessPes {
  readonly runtime: Runtime;
  /** The PE processes, indexed by PE number. */
  readonly processes: ChildProcess[];
  /** Asks every PE to stop and waits for their processes to exit (killing stragglers). */
  stop(): Promise<void>;
}

/** How long PE processes get to start and join, and to exit once told to stop. */
const JOIN_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 2_000;

/** Starts `numPes` PE processes on this host that load `modules`; resolves once all are ready. */
export async function startProcessPes(numPes: number, modules: string[], hooks: RuntimeHooks, setup: PeSetup = { definitions: [], interactive: false }): Promise<ProcessPes> {
  const secret = newSecret();
  const host = "127.0.0.1";
  let stopping = false;
  let readyCount = 0;
  let settle!: (error?: Error) => void;
  const allReady = new Promise<void>((resolve, reject) => { settle = (e) => (e ? reject(e) : resolve()); });
  const report = (error: ErrorData) => { if (!stopping) hooks.onUnhandled(error); };

  // Linger 0: the driver closes its sockets only once the PEs are gone; nothing is left to deliver.
  const transport = await ZmqTransport.bind({ host, linger: 0, onError: (e) => report({ name: "TransportError", message: e.message, stack: e.stack ?? "", pe: DRIVER }) });
  const rendezvous = await Rendezvous.bind(host, secret);
  const script = distFile("pe-process.js");
  const processes = Array.from({ length: numPes }, (_, pe) => {
    // The secret goes in the child's environment (readable only by this user), never in argv.
    const child = spawn(process.execPath, [script, "--connect", rendezvous.address], {
      env: { ...withoutRanks(process.env), [SECRET_ENV]: secret, CHARM4TS_RANK: String(pe) },
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", (err) => settle(new Error(`PE ${pe}'s process could not start: ${err.message}`)));
    child.on("exit", (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      if (readyCount < numPes) settle(new Error(`PE ${pe}'s process (pid ${child.pid}) ${how} before it was ready`));
      else if (!stopping && code !== REPORTED_DEATH_EXIT_CODE) {
        report({ name: "PeExit", message: `PE ${pe} ${how} (process ${child.pid}); calls waiting on its chares will not complete`, stack: "", pe });
      }
    });
    return child;
  });

  const kill = async () => {
    const exits = processes.map(exited);
    for (const child of processes) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await Promise.all(exits);
    transport.close();
    rendezvous.close();
  };

  let runtime: Runtime;
  try {
    const joiners = await Promise.race([rendezvous.gather(numPes), allReady.then(() => never()), timeout(JOIN_TIMEOUT_MS, `only some of the ${numPes} PE processes joined within ${JOIN_TIMEOUT_MS / 1000} s`)]);
    const peers = [transport.address, ...joiners.map((j) => j.address)];
    transport.join(DRIVER, peers.map((address, i) => [i - 1, address]));
    runtime = new Runtime(DRIVER, numPes, transport, {
      ...hooks,
      onReady: (pe, error) => {
        if (error) settle(new RemoteError(error));
        else if (++readyCount === numPes) settle();
      },
    });
    if (setup.balancer) runtime.defaultBalancer = setup.balancer;
    joiners.forEach((j, pe) => rendezvous.welcome(j, { pe, numPes, modules, ...setup }, peers));
    await allReady;
  } catch (err) {
    stopping = true;
    await kill();
    throw err;
  }

  const stop = async () => {
    stopping = true;
    const exits = Promise.all(processes.map(exited));
    for (let pe = 0; pe < numPes; pe++) transport.send(pe, { t: "stop" });
    transport.flush();
    // A PE stuck in a synchronous loop can't read "stop": give PEs a moment, then kill them.
    await Promise.race([exits, new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
    await kill();
  };
  return { runtime, processes, stop };
}

/** Resolves when a child process has exited (at once if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

function timeout(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

function never(): Promise<never> {
  return new Promise(() => undefined);
}
