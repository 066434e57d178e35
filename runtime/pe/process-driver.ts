/**
 * The driver's side of PEs in processes: binds a rendezvous socket, spawns PE processes on this
 * host (all of them, or only some when a launcher such as mpirun starts the others), gathers
 * them (each shows the runtime's secret), tells each its PE number and everyone's addresses,
 * waits for every "ready", and stops them in order. PE-to-PE messages then go directly between
 * the processes over ZeroMQ TCP (transport/zmq-transport.ts); the driver stays in this process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { hostname } from "node:os";
import { DRIVER, type Endpoint } from "../protocol/ids.ts";
import { RemoteError } from "../protocol/errors.ts";
import type { ErrorData } from "../protocol/messages.ts";
import { DEFAULT_SEND_TIMEOUT_MS, ZmqTransport } from "../transport/zmq-transport.ts";
import { Runtime, type RuntimeHooks } from "../core/runtime.ts";
import { distFile } from "./package-root.ts";
import type { PeSetup } from "./driver.ts";
import { Rendezvous } from "./rendezvous.ts";
import { SECRET_ENV, encodeSecret, newSecret } from "./secret.ts";
import { newCurveKeys } from "../transport/curve.ts";
import { withoutRanks } from "./launcher-env.ts";
import { REPORTED_DEATH_EXIT_CODE } from "./role.ts";
import { DEFAULT_HEARTBEAT, Heartbeat, heartbeatFor, type HeartbeatTiming } from "./heartbeat.ts";
import { processDeath, processFlags } from "./heap-limit.ts";

/** A running set of PE processes and the driver's runtime that talks to them. */
export interface ProcessPes {
  readonly runtime: Runtime;
  /** The PE processes this driver spawned, by PE number. */
  readonly processes: Map<Endpoint, ChildProcess>;
  /** Asks every PE to stop and waits for them to go (killing the driver's own stragglers). */
  stop(): Promise<void>;
}

/** Where the driver listens and which PEs it starts itself. */
export interface ProcessOptions {
  /** The interface to bind to (default CHARM4TS_BIND, else 127.0.0.1: loopback only). */
  host?: string;
  /**
   * Encrypt and authenticate with CURVE (default: off loopback, unless CHARM4TS_PLAIN_TCP=1
   * asks for plain TCP; CHARM4TS_CURVE=1 forces it on loopback too).
   */
  curve?: boolean;
  /** The PE numbers to spawn on this host (default: all); the others join by themselves. */
  spawn?: number[];
  /** Told the rendezvous address and secret once bound (a launcher run publishes them for its ranks). */
  announce?(address: string, secret: string): void;
  /** Called once the run has stopped. */
  onStop?(): void;
  /** Starts PE `pe`'s process (default: Node on this host); the ssh launcher starts it on another host. */
  spawnPe?(pe: number, rendezvous: string, secret: string): ChildProcess;
  /**
   * The application heartbeat: how often PEs are pinged and how long one may stay silent (its
   * event loop stuck) before it is declared dead and killed; `false` turns it off. Default
   * every 500 ms, silent for 2 s (CHARM4TS_PE_TIMEOUT, in seconds, changes the 2 s; 0 is off).
   */
  heartbeat?: HeartbeatTiming | false;
  /** Each spawned PE process's heap limit in MB (`--max-old-space-size`, pe/heap-limit.ts); undefined: Node's default. */
  maxHeapMb?: number;
}

/** How long PE processes get to start and join, to exit once told to stop, and to exit once their connection dropped. */
const JOIN_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 2_000;
const EXIT_AFTER_DISCONNECT_MS = 300;

/** Starts `numPes` PE processes that load `modules`; resolves once all are ready. */
export async function startProcessPes(numPes: number, modules: string[], hooks: RuntimeHooks, setup: PeSetup = { definitions: [], interactive: false }, options: ProcessOptions = {}): Promise<ProcessPes> {
  const host = options.host ?? process.env.CHARM4TS_BIND ?? "127.0.0.1";
  const timing = heartbeatTiming(options.heartbeat);
  // A peer that takes no messages is reported past this; an entry method may legitimately keep
  // a PE busy as long as the heartbeat allows, so never sooner than twice that (off with it).
  const sendTimeoutMs = timing ? Math.max(DEFAULT_SEND_TIMEOUT_MS, 2 * timing.timeoutMs) : 0;
  const token = newSecret();
  const curve = (options.curve ?? wantsCurve(host)) ? newCurveKeys() : undefined;
  // What PEs are given to join: the token, and the CURVE keys when there are some.
  const secret = encodeSecret({ token, curve });
  let stopping = false;
  let readyCount = 0;
  let settle!: (error?: Error) => void;
  const allReady = new Promise<void>((resolve, reject) => { settle = (e) => (e ? reject(e) : resolve()); });
  // Each PE's end is reported once, however many ways it shows (exit, dropped connection).
  const ended = new Set<Endpoint>();
  const gone = new Map<Endpoint, () => void>();
  const goneAll = Array.from({ length: numPes }, (_, pe) => new Promise<void>((resolve) => gone.set(pe, resolve)));
  // `how` says what happened ("was killed by SIGKILL"), `which` which process it was.
  const end = (pe: Endpoint, how: string, which: string, reported = false) => {
    if (ended.has(pe)) return;
    ended.add(pe);
    gone.get(pe)!();
    if (readyCount < numPes) { settle(new Error(`PE ${pe} ${how} ${which} before it was ready`)); return; }
    if (stopping) return;
    heartbeat?.forget(pe);
    if (!reported) hooks.onUnhandled({ name: "PeExit", message: `PE ${pe} ${how} ${which}; calls waiting on its chares fail, and its chares are lost`, stack: "", pe });
    runtime?.failures.peDied(pe, how); // futures that depended on it reject, everyone is told
  };
  let heartbeat: Heartbeat | undefined;
  // PEs that joined by themselves (launcher ranks) and stopped answering: the driver can't end
  // them without their launcher taking it for a crash of the job, so they are ended at stop.
  const silentJoiners: Array<{ pid: number; host: string }> = [];

  // Linger 0: the driver closes its sockets only once the PEs are gone; nothing is left to deliver.
  const transport = await ZmqTransport.bind({ host, linger: 0, curve, sendTimeoutMs, onError: (e) => { if (!stopping) hooks.onUnhandled(transportError(e)); } });
  const rendezvous = await Rendezvous.bind(host, token, curve);
  options.announce?.(rendezvous.address, secret);
  const processes = new Map<Endpoint, ChildProcess>();
  for (const pe of options.spawn ?? Array.from({ length: numPes }, (_, i) => i)) {
    const child = options.spawnPe?.(pe, rendezvous.address, secret) ?? spawnPe(pe, rendezvous.address, secret, processFlags(options.maxHeapMb));
    processes.set(pe, child);
    child.on("error", (err) => end(pe, `could not start a process (${err.message})`, ""));
    child.on("exit", (code, signal) => end(pe, processDeath(code, signal, options.maxHeapMb), `(process ${child.pid})`, code === REPORTED_DEATH_EXIT_CODE));
  }

  const close = async () => {
    heartbeat?.stop();
    for (const child of processes.values()) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const j of silentJoiners) if (j.host === hostname()) killQuietly(j.pid);
    await Promise.all([...processes.values()].map(exited));
    transport.close();
    rendezvous.close();
    options.onStop?.();
  };

  let runtime: Runtime | undefined;
  try {
    const joiners = await Promise.race([rendezvous.gather(numPes), allReady.then(never), timeout(JOIN_TIMEOUT_MS, `only some of the ${numPes} PE processes joined within ${JOIN_TIMEOUT_MS / 1000} s`)]);
    const peers = [transport.address, ...joiners.map((j) => j.address)];
    transport.join(DRIVER, peers.map((address, i) => [i - 1, address]));
    runtime = new Runtime(DRIVER, numPes, transport, {
      ...hooks,
      onReady: (pe, error) => {
        if (error) settle(new RemoteError(error));
        else if (++readyCount === numPes) settle();
      },
      onPong: (pe) => heartbeat?.heard(pe),
    });
    if (setup.balancer) runtime.defaultBalancer = setup.balancer;
    joiners.forEach((j, pe) => {
      // A dropped connection (the process ended, or stopped answering heartbeats: SIGSTOP, a
      // vanished host) ends a PE too. For a PE spawned here its exit says more: wait for it.
      transport.watch(pe, () => {
        if (!processes.has(pe)) end(pe, "closed its connection or stopped answering", `(process ${j.pid} on ${j.host})`);
        else setTimeout(() => end(pe, "stopped answering", `(process ${j.pid})`), EXIT_AFTER_DISCONNECT_MS).unref();
      });
      rendezvous.welcome(j, { pe, numPes, modules, ...setup, sendTimeoutMs }, peers);
    });
    await allReady;
    // Only once every PE is ready: loading a big program may keep a PE's loop busy for seconds.
    if (timing) {
      heartbeat = new Heartbeat(joiners.map((_, pe) => pe), timing, (pe, n) => transport.send(pe, { t: "ping", n }), (pe, silentMs) => {
        const j = joiners[pe]!;
        const child = processes.get(pe);
        const silent = `for ${(silentMs / 1000).toFixed(1)} s`;
        end(pe, STUCK, child ? `${silent} (process ${j.pid}); it was killed` : `${silent} (process ${j.pid} on ${j.host})`);
        if (child) child.kill("SIGKILL");
        else silentJoiners.push(j);
      });
    }
  } catch (err) {
    stopping = true;
    await close();
    throw err;
  }

  const stop = async () => {
    stopping = true;
    heartbeat?.stop();
    for (let pe = 0; pe < numPes; pe++) if (!ended.has(pe)) transport.send(pe, { t: "stop" });
    transport.flush();
    // A PE stuck in a synchronous loop can't read "stop": give PEs a moment, then kill ours.
    await Promise.race([Promise.all(goneAll), new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
    await close();
  };
  return { runtime: runtime!, processes, stop };
}

/** Starts one PE process here; the secret goes in its environment (readable only by this user), never in argv. */
function spawnPe(pe: Endpoint, rendezvous: string, secret: string, nodeFlags: string[]): ChildProcess {
  return spawn(process.execPath, [...nodeFlags, distFile("pe-process.js"), "--connect", rendezvous], {
    env: { ...withoutRanks(process.env), [SECRET_ENV]: secret, CHARM4TS_RANK: String(pe) },
    stdio: ["ignore", "inherit", "inherit"],
  });
}

/** What a PE that stopped answering the application heartbeat died of (as PeLostError says it). */
export const STUCK = "stopped answering (a stuck event loop?)";

/** The heartbeat's timing: the option, else CHARM4TS_PE_TIMEOUT (seconds; 0 turns it off), else the default. */
function heartbeatTiming(option: HeartbeatTiming | false | undefined): HeartbeatTiming | undefined {
  if (option === false) return undefined;
  if (option) return option;
  const env = process.env.CHARM4TS_PE_TIMEOUT;
  if (env === undefined || env === "") return DEFAULT_HEARTBEAT;
  const seconds = Number(env);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`CHARM4TS_PE_TIMEOUT=${env} is not a number of seconds (0 turns the PE heartbeat off)`);
  if (seconds === 0) return undefined;
  return heartbeatFor(seconds);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}

/** Off loopback, CURVE unless plain TCP was asked for explicitly. */
function wantsCurve(host: string): boolean {
  if (process.env.CHARM4TS_CURVE === "1") return true;
  const loopback = /^(127\.|::1$|localhost$)/.test(host);
  return !loopback && process.env.CHARM4TS_PLAIN_TCP !== "1";
}

function transportError(e: Error): ErrorData {
  return { name: "TransportError", message: e.message, stack: e.stack ?? "", pe: DRIVER };
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
