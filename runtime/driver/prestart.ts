/**
 * PE threads started ahead of their driver. A host whose driver lives in a thread that is itself
 * still starting (the kernel: its cell thread is the driver) spawns the PE threads at once from
 * its own thread, so they boot while the driver's thread loads; then it hands them over. The PE
 * threads load the runtime and wait for their setup (thread-pes.ts sends it when it adopts them);
 * their MessagePorts go to the driver, and the spawning thread keeps only the Worker objects,
 * acting on them for the driver through a control channel: it relays their "error" and "exit"
 * events, terminates one when asked, and terminates all if the driver's thread goes away.
 * charmrun spawns and adopts on one thread (launcher/threads-ahead.ts): the channel then simply
 * loops back. Kept light (no runtime core): the spawning thread loads this before anything else.
 */
import { EventEmitter } from "node:events";
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import { DRIVER, type Endpoint } from "../protocol/ids.ts";
import type { PeSetup } from "./thread-pes.ts";
import { distFile } from "../startup/package-root.ts";
import { maxHeapFrom, workerLimits } from "../startup/heap-limit.ts";
import { portMesh } from "./port-mesh.ts";

/** What the spawning thread passes to the driver's thread (post it with `transfer`). */
export interface PrestartedPes {
  numPes: number;
  maxHeapMb: number | undefined;
  /** The driver's end of a channel to each PE. */
  driverPorts: Array<[Endpoint, MessagePort]>;
  /** The channel to the thread that holds the Worker objects. */
  control: MessagePort;
}

/** The handoff, the ports to transfer with it, and the threads (which the spawning thread keeps). */
export interface Prestart {
  handoff: PrestartedPes;
  transfer: MessagePort[];
  workers: Worker[];
}

/** What a prestarted PE thread waits for before it builds its runtime. */
export type LateSetup = PeSetup & { modules: string[] };

type ControlRequest = { op: "setup"; setup: LateSetup } | { op: "terminate"; pe: Endpoint };
type ThreadEvent =
  | { ev: "error"; pe: Endpoint; error: { name: string; message: string; stack?: string; code?: string } }
  | { ev: "exit"; pe: Endpoint; code: number };

/** Above this many PEs nothing is started ahead: the driver's start spawns them itself (and checks the number). */
export const MOST_PES_STARTED_AHEAD = 256;

/**
 * Spawns `numPes` PE threads from this thread, to be adopted by a driver elsewhere; `transfer`
 * lists the ports to transfer with the handoff. Undefined if the environment's heap limit is
 * invalid (the driver's own start then reports it).
 */
export function prestartPeThreads(numPes: number): Prestart | undefined {
  let maxHeapMb: number | undefined;
  try {
    maxHeapMb = maxHeapFrom(undefined);
  } catch {
    return undefined;
  }
  const endpoints: Endpoint[] = [DRIVER, ...Array.from({ length: numPes }, (_, i) => i)];
  const portsOf = portMesh(endpoints);
  const { port1: here, port2: there } = new MessageChannel();
  const workers = endpoints.slice(1).map((pe) => {
    const ports = portsOf.get(pe)!;
    const worker = new Worker(distFile("pe-worker.js"), {
      workerData: { charm4tsPe: true, pe, numPes, ports, setupLater: true },
      transferList: ports.map(([, p]) => p),
      resourceLimits: workerLimits(maxHeapMb),
      stdout: false,
      stderr: false,
    });
    const relay = (event: ThreadEvent) => here.postMessage(event);
    worker.on("error", (err: Error & { code?: string }) => relay({ ev: "error", pe, error: { name: err.name, message: err.message, stack: err.stack, code: err.code } }));
    worker.on("exit", (code) => relay({ ev: "exit", pe, code }));
    // Until a driver adopts it, a thread must not keep the process alive: a program run by
    // charmrun that never starts the runtime ends when its own work does.
    worker.unref();
    return worker;
  });
  here.on("message", (request: ControlRequest) => {
    if (request.op === "setup") {
      for (const w of workers) {
        w.ref(); // adopted: it runs its PE now, and holds the process like a thread the driver spawned
        w.postMessage(request.setup);
      }
    } else void workers[request.pe]?.terminate();
  });
  // The driver's thread ended (or dropped the handoff): PEs without a driver must not linger.
  here.on("close", () => {
    for (const w of workers) void w.terminate();
  });
  here.unref(); // the PE threads themselves keep this process alive while they run
  const driverPorts = portsOf.get(DRIVER)!;
  return { handoff: { numPes, maxHeapMb, driverPorts, control: there }, transfer: [there, ...driverPorts.map(([, p]) => p)], workers };
}

/**
 * A PE thread held by another thread, as the driver sees it: the part of Worker it uses.
 * Events arrive through the control channel; `terminate` asks the holder to end it.
 */
export class HeldPeThread extends EventEmitter {
  /** Like Worker's threadId: -1 once the thread has exited. */
  threadId = 0;

  constructor(
    private readonly pe: Endpoint,
    private readonly control: MessagePort,
  ) {
    super();
    this.once("exit", () => (this.threadId = -1));
  }

  /** Ends the thread; resolves once it has exited. */
  terminate(): Promise<void> {
    if (this.threadId < 0) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.once("exit", () => resolve()));
    this.control.postMessage({ op: "terminate", pe: this.pe } satisfies ControlRequest);
    return exited;
  }
}

let offered: PrestartedPes | undefined;

/** Makes prestarted PE threads available to this thread's next local start. */
export function offerPrestarted(pes: PrestartedPes): void {
  offered = pes;
}

/**
 * The offered PE threads if they fit a start of `numPes` with heap limit `maxHeapMb`, with the
 * setup sent to them; undefined otherwise. Either way the offer is used up: threads that don't
 * fit are terminated (their holder ends them when the control channel closes).
 */
export function takePrestarted(numPes: number, maxHeapMb: number | undefined, setup: LateSetup): { driverPorts: Array<[Endpoint, MessagePort]>; threads: HeldPeThread[]; release(): void } | undefined {
  const pes = offered;
  offered = undefined;
  if (!pes) return undefined;
  if (pes.numPes !== numPes || pes.maxHeapMb !== maxHeapMb) {
    pes.control.close();
    for (const [, port] of pes.driverPorts) port.close();
    return undefined;
  }
  const threads = Array.from({ length: numPes }, (_, pe) => new HeldPeThread(pe, pes.control));
  pes.control.on("message", (event: ThreadEvent) => {
    const thread = threads[event.pe];
    if (!thread) return;
    if (event.ev === "exit") thread.emit("exit", event.code);
    else thread.emit("error", Object.assign(new Error(event.error.message), event.error));
  });
  // Not unref'd: as a Worker object does, this keeps the driver's process alive until release(),
  // and the driver's stop awaits the threads' exits through it (else a script's process would end
  // with code 0 while waiting for them, before its exit code is set).
  pes.control.postMessage({ op: "setup", setup } satisfies ControlRequest);
  // Once the threads have stopped, closing the channel tells the holder it is done with them.
  return { driverPorts: pes.driverPorts, threads, release: () => pes.control.close() };
}

/** Drops an offer no start took (the driver started PE processes instead): its threads end. */
export function discardPrestarted(): void {
  if (!offered) return;
  offered.control.close();
  for (const [, port] of offered.driverPorts) port.close();
  offered = undefined;
}
