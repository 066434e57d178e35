/**
 * PE threads that reach PEs of other processes over ZeroMQ as well as their own process's PEs
 * over MessagePorts: the threads of a PE process hosting several PEs (pe/pe-host.ts), and the
 * driver's own PE threads in a mixed runtime (driver/process-pes.ts). Each thread binds its own
 * receiving socket and says where; once the runtime is assembled it gets its PE number, every
 * endpoint's address and ports to the other threads here (pe/thread-joins.ts is its side).
 */
import { Worker, type MessagePort } from "node:worker_threads";
import { DRIVER, type Endpoint } from "../protocol/ids.ts";
import type { PeConfig } from "../protocol/join.ts";
import type { ErrorData } from "../protocol/messages.ts";
import type { CurveKeys } from "../transport/curve.ts";
import { distFile } from "./package-root.ts";
import { portMesh } from "../driver/port-mesh.ts";
import { threadOutOfMemory, workerLimits } from "./heap-limit.ts";
import { newAwakeCount } from "../transport/awake-count.ts";

/** What such a thread is started with: where to bind (its PE number comes later). */
export interface JoiningThreadData {
  charm4tsPe: true;
  join: { host: string; curve?: CurveKeys };
}

/** Parent → thread: you are PE `config.pe`; `peers[k + 1]` is PE k's address; ports reach this process's other endpoints. */
export interface ThreadStart {
  t: "start";
  config: PeConfig;
  peers: string[];
  ports: Array<[Endpoint, MessagePort]>;
}

/** Parent → thread, instead of "start": the runtime won't start; close the socket and end. */
export interface ThreadAbort {
  t: "abort";
}

/** Thread → parent: its socket's address, and that it is stopping because the driver said so. */
export type ThreadNews = { t: "bound"; address: string } | { t: "stopping" };

/** How a thread ended that wasn't told to stop. */
export interface ThreadEnd {
  /** What PeLostError says happened ("exited with code 7", "ran out of memory (…)"). */
  how: string;
  /** When it died of an exception: the report, its message without the "PE n " in front (the caller knows n). */
  error?: Omit<ErrorData, "pe">;
}

/** A set of such threads in this process, numbered 0 … count-1 until they know their PEs. */
export class JoiningThreads {
  readonly workers: Worker[];
  /** Every thread's receiving socket, in thread order (rejects if one fails to start). */
  readonly addresses: Promise<string[]>;
  /** Resolves once every thread has ended, however. */
  readonly ended: Promise<void>;
  /** Resolves once a thread says the driver told it to stop (a normal end of the run). */
  readonly stopping: Promise<void>;
  private started = false;
  private readonly exited: boolean[] = [];

  /** `onEnd` hears of each thread that ends without having been told to stop; `maxHeapMb` bounds each thread's heap. */
  constructor(count: number, join: JoiningThreadData["join"], onEnd: (thread: number, end: ThreadEnd) => void, maxHeapMb?: number) {
    const file = distFile("pe-worker.js");
    let toldToStop!: () => void;
    this.stopping = new Promise<void>((resolve) => { toldToStop = resolve; });
    const bound: Array<Promise<string>> = [];
    const ends: Array<Promise<void>> = [];
    this.workers = Array.from({ length: count }, (_, i) => {
      const data: JoiningThreadData = { charm4tsPe: true, join };
      const worker = new Worker(file, { workerData: data, resourceLimits: workerLimits(maxHeapMb), stdout: false, stderr: false });
      let stopping = false;
      let died = false;
      let fail!: (e: Error) => void;
      bound.push(new Promise<string>((resolve, reject) => {
        fail = reject;
        worker.on("message", (news: ThreadNews) => {
          if (news.t === "bound") resolve(news.address);
          else {
            stopping = true;
            toldToStop();
          }
        });
      }));
      worker.on("error", (err) => {
        died = true;
        fail(err);
        // Node ends only this thread when it exhausts its heap: a dead PE like any other.
        const oom = threadOutOfMemory(err, maxHeapMb);
        if (!stopping) onEnd(i, { how: oom ?? `died (${err.message})`, error: { name: err.name, message: oom ?? `died: ${err.message}`, stack: err.stack ?? "" } });
      });
      ends.push(new Promise<void>((resolve) => worker.on("exit", (code) => {
        this.exited[i] = true;
        fail(new Error(`a PE thread exited with code ${code} before it was ready`));
        if (!stopping && !died) onEnd(i, { how: `exited with code ${code}` });
        resolve();
      })));
      return worker;
    });
    this.addresses = Promise.all(bound);
    this.ended = Promise.all(ends).then(() => undefined);
  }

  /**
   * Tells thread i it is PE `first + i`. With `withDriver`, the driver (this thread) is one of
   * the endpoints here: returns its ports to the threads, and the count of awake threads here
   * (awake-count.ts) for its transport. The threads here share that count, so they spin for
   * each other's replies (spin.ts) only while there are cores for it.
   */
  start(first: Endpoint, config: Omit<PeConfig, "pe" | "awake">, peers: string[], withDriver = false): { ports: Array<[Endpoint, MessagePort]>; awake: SharedArrayBuffer } {
    this.started = true;
    const pes = this.workers.map((_, i) => first + i);
    const mesh = portMesh(withDriver ? [DRIVER, ...pes] : pes);
    const awake = newAwakeCount(config.numPes);
    this.workers.forEach((worker, i) => {
      const ports = mesh.get(first + i)!;
      const start: ThreadStart = { t: "start", config: { ...config, pe: first + i, awake }, peers, ports };
      worker.postMessage(start, ports.map(([, port]) => port));
    });
    return { ports: mesh.get(DRIVER) ?? [], awake };
  }

  /**
   * Lets go of the threads: one that never started its PE is told to close its socket and end;
   * one still running after its PE was told to stop (stuck in a loop) is left running, unref'd —
   * ending it by force (terminate) while its socket waits to receive would abort this whole
   * process (zeromq.js#411). Returns the threads left running.
   */
  release(): number[] {
    const left: number[] = [];
    this.workers.forEach((worker, i) => {
      if (this.exited[i]) return;
      if (!this.started) { worker.postMessage({ t: "abort" } satisfies ThreadAbort); return; }
      worker.unref();
      left.push(i);
    });
    return left;
  }
}
