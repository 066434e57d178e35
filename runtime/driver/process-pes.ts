/**
 * The driver's side of PEs in processes: binds a rendezvous socket, spawns PE processes on this
 * host (all of them, or only some when a launcher such as mpirun starts the others), gathers
 * them (each shows the runtime's secret), tells each its first PE number and everyone's
 * addresses, waits for every "ready", and stops them in order. A process may host several PEs
 * (worker threads, pe/pe-host.ts), and in a mixed runtime some PEs are threads of this process
 * (startup/start-joining-threads.ts); layout.ts says which. PE-to-PE messages go directly: over
 * MessagePorts within a process, over ZeroMQ TCP between processes (transport/routed-transport.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { hostname } from "node:os";
import { DRIVER, type Endpoint } from "../protocol/ids.ts";
import { RemoteError } from "../protocol/errors.ts";
import type { ErrorData } from "../protocol/messages.ts";
import { DEFAULT_SEND_TIMEOUT_MS, ZmqTransport } from "../transport/zmq-transport.ts";
import type { Runtime, RuntimeHooks } from "../core/runtime.ts";
import { assembleRuntime } from "../assemble.ts";
import { nextDriverIncarnation } from "../core/current.ts";
import { distFile } from "../startup/package-root.ts";
import type { PeSetup } from "./thread-pes.ts";
import { Rendezvous } from "../startup/rendezvous.ts";
import { SECRET_ENV, encodeSecret, newSecret } from "../startup/secret.ts";
import { newCurveKeys } from "../transport/curve.ts";
import { withoutRanks } from "../startup/launcher-env.ts";
import { DEFAULT_HEARTBEAT, Heartbeat, heartbeatFor, type HeartbeatTiming } from "./heartbeat.ts";
import { peLayout, pesOf } from "./layout.ts";
import { JoiningThreads, type ThreadEnd } from "../startup/start-joining-threads.ts";
import { LostPes } from "./pe-lost.ts";
import { PortTransport } from "../transport/port-transport.ts";
import { RoutedTransport } from "../transport/routed-transport.ts";
import { MAX_HEAP_ENV, processDeath, processFlags } from "../startup/heap-limit.ts";

/** A running set of PE processes and the driver's runtime that talks to them. */
export interface ProcessPes {
  readonly runtime: Runtime;
  /** The PE processes this driver spawned, by PE number (a process hosting several PEs is listed under each). */
  readonly processes: Map<Endpoint, ChildProcess>;
  /** Asks every PE to stop and waits for them to go (killing the driver's own stragglers). */
  stop(): Promise<void>;
}

/** Where the driver listens and which PEs it starts itself. */
export interface ProcessOptions {
  /** The interface to bind to (default CHARM4TS_BIND, else 127.0.0.1: loopback only). */
  host?: string;
  /**
   * Encrypt and authenticate every socket with CURVE, loopback included (default: yes, unless
   * CHARM4TS_PLAIN_TCP=1 asks for plain TCP, which lets anyone who reaches a port run code).
   */
  curve?: boolean;
  /** The process slots to spawn on this host (default: all); the others join by themselves. With one PE per process, a slot is a PE number. */
  spawn?: number[];
  /** PEs that are worker threads of this process (0 … localPes-1), talking ZeroMQ to the rest: a mixed runtime (default 0). */
  localPes?: number;
  /** How many PEs each PE process hosts, one worker thread each (default 1: on its main thread). */
  pesPerProcess?: number;
  /** How long the PE processes may take to join (default 60 s; PEs started by hand get longer). */
  joinTimeoutMs?: number;
  /** Told the rendezvous address and secret once bound (a launcher run publishes them for its ranks). */
  announce?(address: string, secret: string): void;
  /** Called once the run has stopped. */
  onStop?(): void;
  /** Starts PE process `slot`, hosting `pes` PEs (default: Node on this host); the ssh launcher starts it on another host. */
  spawnPe?(slot: number, rendezvous: string, secret: string, pes: number): ChildProcess;
  /**
   * The application heartbeat: how often PEs are pinged and how long one may stay silent (its
   * event loop stuck) before it is declared dead and killed; `false` turns it off. Default
   * every 500 ms, silent for 2 s (CHARM4TS_PE_TIMEOUT, in seconds, changes the 2 s; 0 is off).
   */
  heartbeat?: HeartbeatTiming | false;
  /** Each spawned PE process's heap limit in MB (`--max-old-space-size`, startup/heap-limit.ts); undefined: Node's default. */
  maxHeapMb?: number;
}

/** How long PE processes get to start and join, to exit once told to stop, and to exit once their connection dropped. */
const JOIN_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 2_000;
const EXIT_AFTER_DISCONNECT_MS = 300;
// A thread of a process hosting several PEs: its process reports its end on the rendezvous connection.
const THREAD_END_AFTER_DISCONNECT_MS = 1_000;

/** Starts `numPes` PE processes that load `modules`; resolves once all are ready. */
export async function startProcessPes(numPes: number, modules: string[], hooks: RuntimeHooks, setup: PeSetup = { definitions: [], interactive: false }, options: ProcessOptions = {}): Promise<ProcessPes> {
  const host = options.host ?? process.env.CHARM4TS_BIND ?? "127.0.0.1";
  const timing = heartbeatTiming(options.heartbeat);
  // A peer that takes no messages is reported past this; an entry method may legitimately keep
  // a PE busy as long as the heartbeat allows, so never sooner than twice that (off with it).
  const sendTimeoutMs = timing ? Math.max(DEFAULT_SEND_TIMEOUT_MS, 2 * timing.timeoutMs) : 0;
  const token = newSecret();
  const curve = (options.curve ?? wantsCurve()) ? newCurveKeys() : undefined;
  // What PEs are given to join: the token, and the CURVE keys (unless plain TCP was asked for).
  const secret = encodeSecret({ token, curve });
  const layout = peLayout(numPes, options.localPes, options.pesPerProcess);
  const remotePes = Array.from({ length: numPes - layout.local }, (_, i) => layout.local + i);
  let stopping = false;
  let readyCount = 0;
  let settle!: (error?: Error) => void;
  const allReady = new Promise<void>((resolve, reject) => { settle = (e) => (e ? reject(e) : resolve()); });
  // Each PE's end is reported once, however many ways it shows (exit, dropped connection).
  const ended = new Set<Endpoint>();
  const gone = new Map<Endpoint, () => void>();
  const goneAll = Array.from({ length: numPes }, (_, pe) => new Promise<void>((resolve) => gone.set(pe, resolve)));
  // `how` says what happened ("was killed by SIGKILL"), `which` which process it was; `stack`:
  // the error's, for a thread that died of one.
  const end = (pe: Endpoint, how: string, which: string, stack = "") => {
    if (ended.has(pe)) return;
    ended.add(pe);
    gone.get(pe)!();
    if (readyCount < numPes) { settle(new Error(`PE ${pe} ${how} ${which} before it was ready`)); return; }
    if (stopping) return;
    heartbeat?.forget(pe);
    lost.lost(pe, how, which, stack); // futures that depended on it reject, everyone is told; reported if nobody heard
  };
  const lost = new LostPes(() => runtime, hooks);
  let heartbeat: Heartbeat | undefined;
  // PEs that joined by themselves (launcher ranks) and stopped answering: the driver can't end
  // them without their launcher taking it for a crash of the job, so they are ended at stop.
  const silentJoiners: Array<{ pid: number; host: string }> = [];
  // A thread of a PE process, or of this one, that ended: with its error's stack if it died of one.
  const threadEnded = (pe: Endpoint, e: ThreadEnd, which: string) => {
    transport.ended(pe);
    end(pe, e.how, which, e.error?.stack);
  };

  // Linger 0: the driver closes its sockets only once the PEs are gone; nothing is left to deliver.
  const transport = await ZmqTransport.bind({ host, linger: 0, curve, sendTimeoutMs, onError: (e) => { if (!stopping) hooks.onUnhandled(transportError(e)); }, onBulk: (pe, bytes) => heartbeat?.busy(pe, bytes) });
  const rendezvous = await Rendezvous.bind(host, token, curve);
  options.announce?.(rendezvous.address, secret);
  const processes = new Map<Endpoint, ChildProcess>();
  const children: ChildProcess[] = [];
  for (const slot of options.spawn ?? layout.processes.map((_, i) => i)) {
    const { count } = layout.processes[slot]!;
    const child = options.spawnPe?.(slot, rendezvous.address, secret, count) ?? spawnPe(slot, count, rendezvous.address, secret, options.maxHeapMb);
    children.push(child);
    // A process takes all of its PEs with it.
    const endAll = (how: string, which: string) => { for (const pe of pesOf(layout.processes[slot]!)) end(pe, how, which); };
    // An exit ends what the process can send: what it sent before still counts (ZmqTransport.ended).
    const exitAll = (how: string, which: string) => { for (const pe of pesOf(layout.processes[slot]!)) transport.ended(pe); endAll(how, which); };
    for (const pe of pesOf(layout.processes[slot]!)) processes.set(pe, child);
    child.on("error", (err) => endAll(`could not start a process (${err.message})`, ""));
    child.on("exit", (code, signal) => exitAll(processDeath(code, signal, options.maxHeapMb), `(process ${child.pid})`));
  }
  // A mixed runtime's PEs here: threads that reach the PE processes over ZeroMQ.
  const local = layout.local > 0 ? new JoiningThreads(layout.local, { host, curve }, (pe, e) => threadEnded(pe, e, "(a thread of the driver's process)"), options.maxHeapMb) : undefined;

  const close = async () => {
    heartbeat?.stop();
    for (const child of children) killGroup(child);
    for (const j of silentJoiners) if (j.host === hostname()) killQuietly(j.pid);
    // PE threads here end by themselves on "stop" (sent now when the start failed).
    if (!stopSent && routed !== transport) {
      for (let pe = 0; pe < layout.local; pe++) routed.send(pe, { t: "stop" });
      routed.flush();
    }
    const grace = new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
    await Promise.all([...children.map(exited), Promise.race([local?.ended, grace])]);
    // Threads that never started end at once; one that didn't stop is left running, since ending
    // it by force while its ZeroMQ socket waits to receive would abort this process (zeromq.js#411).
    const stuck = local?.release() ?? [];
    if (stuck.length > 0) process.stderr.write(`charm4ts: PE ${stuck.join(", ")} (a thread of this process) didn't stop; it is left running, since ending it by force would abort this process (zeromq.js#411)\n`);
    else await local?.ended;
    routed.close();
    rendezvous.close();
    // Stopped once nothing receives any more: this thread may be terminated next (the kernel's
    // cell thread). Bounded, so that a stop never hangs on ZeroMQ.
    await Promise.race([transport.whenClosed(), new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
    options.onStop?.();
  };

  let runtime: Runtime | undefined;
  // The driver's transport: ZeroMQ, and ports to its own PE threads in a mixed runtime.
  let routed: RoutedTransport | ZmqTransport = transport;
  let stopSent = false;
  try {
    const count = layout.processes.length;
    const joinTimeoutMs = options.joinTimeoutMs ?? JOIN_TIMEOUT_MS;
    const [joiners, localAddresses] = await Promise.race([
      Promise.all([rendezvous.gather(count), local?.addresses ?? []]),
      allReady.then(never),
      timeout(joinTimeoutMs, `only some of the ${count} PE processes joined within ${joinTimeoutMs / 1000} s`),
    ]);
    joiners.forEach((j, slot) => {
      const want = layout.processes[slot]!.count;
      if (j.addresses.length !== want) throw new Error(`PE process ${slot} (process ${j.pid} on ${j.host}) hosts ${j.addresses.length} PEs, but this runtime puts ${want} in each process (start it with --pes ${want})`);
    });
    const peers = [transport.address, ...localAddresses, ...joiners.flatMap((j) => j.addresses)];
    transport.join(DRIVER, peers.map((address, i) => [i - 1, address]));
    const config = { numPes, modules, ...setup, sendTimeoutMs };
    // The threads here start now; the runtime listens before their first message can arrive (a later turn).
    if (local) {
      const here = local.start(0, config, peers, true);
      // The driver doesn't spin (as with thread PEs), but counts itself awake so the threads here defer to it.
      routed = new RoutedTransport(new PortTransport(DRIVER, new Map(here.ports), 0, here.awake), transport);
    }
    rendezvous.onLost = (j, lost) => {
      const slot = joiners.indexOf(j);
      if (layout.slotOf[lost.pe] === slot) threadEnded(lost.pe, lost, `(a thread of process ${j.pid})`);
    };
    runtime = assembleRuntime(DRIVER, numPes, routed, {
      ...hooks,
      onReady: (pe, error) => {
        if (error) settle(new RemoteError(error));
        else if (++readyCount === numPes) settle();
      },
      onPong: (pe) => heartbeat?.heard(pe),
    }, nextDriverIncarnation());
    if (setup.balancer) runtime.defaultBalancer = setup.balancer;
    // A PE declared dead while its process may still run (stopped, stuck): a process spawned
    // here is killed with its process group, taking the PEs it hosts; one that joined by itself
    // is ended at stop. Either way every endpoint fences it from now on (ZmqTransport.peerLost).
    const giveUp = (pe: Endpoint, how: string, silent: string) => {
      const j = joiners[layout.slotOf[pe]!]!;
      const child = processes.get(pe);
      end(pe, how, child ? `${silent}(process ${j.pid}); it was killed` : `${silent}(process ${j.pid} on ${j.host})`);
      if (!child) { silentJoiners.push(j); return; }
      for (const other of pesOf(layout.processes[layout.slotOf[pe]!]!)) end(other, `was lost with its process, killed because PE ${pe} ${how}`, `(process ${j.pid})`);
      killGroup(child);
    };
    joiners.forEach((j, slot) => {
      const { first, count: hosted } = layout.processes[slot]!;
      const dropped = new Set<Endpoint>();
      // A dropped connection (the process ended, or stopped answering heartbeats: SIGSTOP, a
      // vanished host) ends a PE too. For a PE spawned here its exit says more: wait for it
      // (and for a thread of a process hosting several, for its process's report). Once every
      // PE of the process dropped and it hasn't exited, the process is given up on.
      for (let pe = first; pe < first + hosted; pe++) {
        transport.watch(pe, () => {
          dropped.add(pe);
          if (!processes.has(pe)) return end(pe, "closed its connection or stopped answering", `(process ${j.pid} on ${j.host})`);
          setTimeout(() => {
            if (ended.has(pe)) return;
            if (dropped.size === hosted) giveUp(pe, "stopped answering", "");
            else end(pe, "stopped answering", `(a thread of process ${j.pid})`);
          }, hosted > 1 ? THREAD_END_AFTER_DISCONNECT_MS : EXIT_AFTER_DISCONNECT_MS).unref();
        });
      }
      rendezvous.welcome(j, { pe: first, ...config }, peers);
    });
    await allReady;
    // Only once every PE is ready: loading a big program may keep a PE's loop busy for seconds.
    if (timing) {
      // PE threads of this process are left out: they are never killed, and a process's PEs answer each on its own loop.
      heartbeat = new Heartbeat(remotePes, timing, (pe, n) => transport.send(pe, { t: "ping", n }), (pe, silentMs) => giveUp(pe, STUCK, `for ${(silentMs / 1000).toFixed(1)} s `));
    }
  } catch (err) {
    stopping = true;
    await close();
    throw err;
  }

  const stop = async () => {
    stopping = true;
    stopSent = true;
    heartbeat?.stop();
    for (let pe = 0; pe < numPes; pe++) if (!ended.has(pe)) routed.send(pe, { t: "stop" });
    routed.flush();
    // A PE stuck in a synchronous loop can't read "stop": give PEs a moment, then kill ours.
    const allGone = [...remotePes.map((pe) => goneAll[pe]), local?.ended];
    await Promise.race([Promise.all(allGone), new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
    await close();
  };
  return { runtime: runtime!, processes, stop };
}

/** Starts one PE process here, hosting `pes` PEs; the secret goes in its environment (readable only by this user), never in argv. */
function spawnPe(slot: number, pes: number, rendezvous: string, secret: string, maxHeapMb: number | undefined): ChildProcess {
  // The heap limit: the process's own, and its threads' when it hosts several PEs.
  const heap = maxHeapMb === undefined ? {} : { [MAX_HEAP_ENV]: String(maxHeapMb) };
  return spawn(process.execPath, [...processFlags(maxHeapMb), distFile("pe-process.js"), "--connect", rendezvous, ...(pes > 1 ? ["--pes", String(pes)] : [])], {
    env: { ...withoutRanks(process.env), ...heap, [SECRET_ENV]: secret, CHARM4TS_RANK: String(slot) },
    stdio: ["ignore", "inherit", "inherit"],
    // A process group of its own: killing it takes whatever it started, and a terminal's (or
    // Jupyter's) SIGINT to the driver's group doesn't kill it; it exits when the driver goes.
    detached: true,
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

/** Kills a PE process spawned here, and its process group (SIGKILL ends a stopped process too). */
function killGroup(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    // A group id is its leader's pid: only our own child leads the group of that id.
    if (child.pid !== undefined) return void process.kill(-child.pid, "SIGKILL");
  } catch {
    // not a group leader (an ssh client from a custom spawner): the process alone
  }
  child.kill("SIGKILL");
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}

/**
 * CURVE unless plain TCP was asked for explicitly, on every address: loopback ports are open to
 * every user of the host, so loopback is no protection on a shared machine.
 */
function wantsCurve(): boolean {
  if (process.env.CHARM4TS_PLAIN_TCP !== "1") return true;
  process.stderr.write("charm4ts: CHARM4TS_PLAIN_TCP=1: this runtime's sockets are plain TCP and unauthenticated; anyone who can reach them (on loopback, every user of this host) can run code in its PEs\n");
  return false;
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
