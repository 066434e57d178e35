/**
 * The driver's side of start-up and shut-down: one worker thread per PE, a full mesh of
 * MessagePorts among them and the driver (so PE-to-PE messages never pass through here),
 * a "ready" handshake once each PE has loaded the program, and an orderly stop.
 */
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import { DRIVER, type Endpoint } from "../protocol/ids.ts";
import { RemoteError } from "../protocol/errors.ts";
import type { ErrorData } from "../protocol/messages.ts";
import type { Replacement } from "../protocol/join.ts";
import { askEveryPe } from "../core/ask-pes.ts";
import { definitionLog } from "../definitions/ship.ts";
import { PortTransport } from "../transport/port-transport.ts";
import { forgetThread, newAwakeCount } from "../transport/awake-count.ts";
import type { Runtime, RuntimeHooks } from "../core/runtime.ts";
import { LostPes } from "./pe-lost.ts";
import { assembleRuntime } from "../assemble.ts";
import { nextDriverIncarnation } from "../core/current.ts";
import { distFile } from "../startup/package-root.ts";
import { threadOutOfMemory, workerLimits } from "../startup/heap-limit.ts";
import type { PeWorkerData } from "../pe/worker-main.ts";
import { portMesh } from "./port-mesh.ts";
import { takePrestarted, type HeldPeThread } from "./prestart.ts";

/** A PE's thread as the driver uses it: a Worker, or one another thread holds (prestart.ts). */
type PeThread = Worker | HeldPeThread;

/** A running set of local PEs and the driver's runtime that talks to them. */
export interface LocalPes {
  readonly runtime: Runtime;
  readonly workers: PeThread[];
  /** Asks every PE to stop and waits for their threads to end (terminating stragglers). */
  stop(): Promise<void>;
  /**
   * Stops one PE's thread (even in an endless loop) and starts a fresh one in its place; the
   * chares it held are lost, everything else carries on (see core/failure.ts).
   */
  restartPe(pe: Endpoint, why: string): Promise<void>;
}

/** What every PE gets besides its number and ports. */
export interface PeSetup {
  /** Interactive definition scripts to replay before reporting ready. */
  definitions: string[];
  /** Notebook mode (see StartOptions.interactive). */
  interactive: boolean;
  /** The balancer arrays use unless they name one (see StartOptions.balancer). */
  balancer?: string;
  /** The most µs a PE keeps polling its ports after handling messages (StartOptions.spinUs; 0: off). */
  spinUs?: number;
  /** The count of awake runtime threads, shared by the driver and the PE threads (made here when absent). */
  awake?: SharedArrayBuffer;
}

/** How the driver runs PE threads (what the PEs themselves needn't know). */
export interface LocalOptions {
  /** Each PE thread's heap limit in MB (startup/heap-limit.ts); undefined: Node's default. */
  maxHeapMb?: number;
}

/** Starts `numPes` PE threads that load `modules`; resolves once all are ready. */
export async function startLocalPes(numPes: number, modules: string[], hooks: RuntimeHooks, setup: PeSetup = { definitions: [], interactive: false }, options: LocalOptions = {}): Promise<LocalPes> {
  const endpoints: Endpoint[] = [DRIVER, ...Array.from({ length: numPes }, (_, i) => i)];
  if (!setup.awake) setup = { ...setup, awake: newAwakeCount(numPes) };
  // Threads started ahead of us, if they fit this start: they get their setup now.
  const prestarted = takePrestarted(numPes, options.maxHeapMb, { ...setup, modules });
  const portsOf = prestarted ? new Map([[DRIVER, prestarted.driverPorts]]) : portMesh(endpoints);

  let readyCount = 0;
  let settle!: (error?: Error) => void;
  const allReady = new Promise<void>((resolve, reject) => { settle = (e) => (e ? reject(e) : resolve()); });
  // A PE restarted later reports ready to its own waiter.
  const restarting = new Map<Endpoint, (error?: ErrorData) => void>();
  const onReady = (pe: Endpoint, error?: ErrorData) => {
    const restarted = restarting.get(pe);
    if (restarted) { restarting.delete(pe); restarted(error); return; }
    if (error) settle(new RemoteError(error));
    else if (++readyCount === numPes) settle();
  };

  // The driver doesn't spin: its replies come from PEs that work first, and a driver spinning
  // beside them took a core they needed (broadcast + sum over 100 elements: 0.14–0.19 ms, 0.11 without).
  const transport = new PortTransport(DRIVER, new Map(portsOf.get(DRIVER)), 0, setup.awake);
  const runtime = assembleRuntime(DRIVER, numPes, transport, { ...hooks, onReady }, nextDriverIncarnation());
  if (setup.balancer) runtime.defaultBalancer = setup.balancer;
  const workerFile = distFile("pe-worker.js");
  let stopping = false;
  const replaced = new Set<PeThread>(); // stopped on purpose: their exit is no news
  const lost = new LostPes(() => runtime, hooks);

  /** Watches a PE's thread: a death after start-up is reported, never silent. */
  const watch = (pe: Endpoint, worker: PeThread): PeThread => {
    // After start-up a PE that dies (an exception outside any entry method, process.exit) is
    // never silent: the calls waiting on it reject, or, if none did, the loss is reported (pe-lost.ts).
    let died = false;
    worker.on("error", (err) => {
      died = true;
      if (readyCount < numPes) settle(new Error(`PE ${pe} failed to start: ${err.message}`));
      else if (!stopping && !replaced.has(worker)) {
        // Node ends only this thread when it exhausts its heap: a dead PE like any other.
        const oom = threadOutOfMemory(err, options.maxHeapMb);
        lost.lost(pe, oom ?? `died (${err.message})`, "", err.stack ?? "");
      }
    });
    worker.on("exit", (code) => {
      if (setup.awake) forgetThread(setup.awake, pe); // a thread that ended awake no longer counts
      // A thread charm.restartPe started, ended before it was ready: the restart fails, saying so.
      const restart = restarting.get(pe);
      if (restart && !replaced.has(worker)) {
        restarting.delete(pe);
        restart({ name: "PeLostError", message: `PE ${pe} exited with code ${code} before it was ready`, stack: "", pe });
      }
      if (readyCount < numPes) settle(new Error(`PE ${pe} exited with code ${code} before it was ready`));
      else if (!stopping && !died && !replaced.has(worker)) {
        lost.lost(pe, `exited with code ${code}`);
      }
    });
    return worker;
  };
  const spawn = (pe: Endpoint, ports: Array<[Endpoint, MessagePort]>, extra: Partial<PeWorkerData> = {}): PeThread => {
    const data: PeWorkerData = { charm4tsPe: true, pe, numPes, modules, ...setup, ...extra, ports };
    return watch(pe, new Worker(workerFile, { workerData: data, transferList: ports.map(([, p]) => p), resourceLimits: workerLimits(options.maxHeapMb), stdout: false, stderr: false }));
  };
  const workers = prestarted
    ? prestarted.threads.map((thread, pe) => watch(pe, thread))
    : endpoints.slice(1).map((pe) => spawn(pe, portsOf.get(pe)!));
  const incarnations = new Array<number>(numPes).fill(0);

  const restartPe = async (pe: Endpoint, why: string): Promise<void> => {
    const old = workers[pe]!;
    replaced.add(old);
    await old.terminate();
    runtime.failures.peDied(pe, why);
    // Every live endpoint's collection counter now: collections up to it lost their chares on `pe`.
    const live = Array.from({ length: numPes }, (_, p) => p).filter((p) => p !== pe && !runtime.failures.dead.has(p));
    // One question per PE (askEveryPe): another PE dying meanwhile can't leave the restart waiting for good.
    const { answers } = await askEveryPe<[Endpoint, number]>((fid) => ({ t: "counters", fid }), `charm.restartPe(${pe}): collection counters`);
    const marks: Array<[Endpoint, number]> = [[DRIVER, runtime.collectionCount], ...answers];
    const r: Replacement = { pe, incarnation: ++incarnations[pe]!, marks, why };
    // The others learn of the restart, then get a fresh channel to the new thread (in that order).
    const ports: Array<[Endpoint, MessagePort]> = [];
    for (const p of [DRIVER, ...live]) {
      const { port1, port2 } = new MessageChannel();
      ports.push([p, port2]);
      if (p === DRIVER) {
        runtime.failures.replaced(r);
        transport.replacePeer(pe, port1);
        runtime.scheduler.traffic.forget(pe);
      } else {
        runtime.send(p, { t: "replaced", r });
        runtime.send(p, { t: "peer", pe, port: port1 }, [port1 as unknown as ArrayBuffer]);
      }
    }
    transport.flush();
    const ready = new Promise<ErrorData | undefined>((resolve) => restarting.set(pe, resolve));
    workers[pe] = spawn(pe, ports, { definitions: definitionLog(), restart: { incarnation: r.incarnation, replacements: [...runtime.failures.replacements] } });
    const error = await ready;
    if (error) throw new RemoteError(error);
  };

  const stop = async () => {
    stopping = true;
    const exits = workers.map((w) => new Promise<void>((resolve) => (w.threadId < 0 ? resolve() : w.once("exit", () => resolve()))));
    for (let pe = 0; pe < numPes; pe++) transport.send(pe, { t: "stop" });
    transport.flush();
    // A PE stuck in a synchronous loop can't read "stop": give PEs a moment, then terminate.
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
    await Promise.race([Promise.all(exits), timeout]);
    await Promise.all(workers.map((w) => w.terminate()));
    transport.close();
    prestarted?.release();
  };

  try {
    await allReady;
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    transport.close();
    prestarted?.release();
    throw err;
  }
  return { runtime, workers, stop, restartPe };
}
