/** Stops JavaScript running in a worker from outside it, through the main thread's inspector. */
import { Session } from "node:inspector";
import type { Worker } from "node:worker_threads";

interface AttachedEvent {
  params: { sessionId: string; workerInfo: { workerId: string; title: string } };
}

/**
 * A worker busy in `while (true) {}` never reads its messages, and its own inspector session runs
 * on the same blocked thread. The main thread's session can still reach it: `NodeWorker` attaches
 * to the worker's inspector, and `Runtime.terminateExecution` stops the running script without
 * ending the thread (V8 cancels the termination once the script has unwound), so all state stays.
 */
export class Interrupter {
  private readonly session = new Session();
  private sessionId: string | undefined;
  private nextId = 1;

  private constructor(private readonly cellRunning: Int32Array) {}

  /**
   * Attaches to `worker`'s inspector; resolves once attached. `cellRunning[0]` is 1 while the
   * worker evaluates a cell (the worker sets it, shared memory), so a termination is only sent then.
   */
  static async attach(worker: Worker, cellRunning: Int32Array): Promise<Interrupter> {
    const interrupter = new Interrupter(cellRunning);
    const session = interrupter.session;
    session.connect();
    // `workerId` is the inspector's own counter; the title is "[worker <threadId>] <name>".
    const wanted = `[worker ${worker.threadId}]`;
    const attached = new Promise<void>((resolve) => {
      session.on("NodeWorker.attachedToWorker", (event: AttachedEvent) => {
        const { sessionId, workerInfo } = event.params;
        if (workerInfo.title === wanted || workerInfo.title.startsWith(`${wanted} `)) {
          interrupter.sessionId = sessionId;
          resolve();
        } else {
          // Other workers (the runtime's PEs) are none of our business.
          session.post("NodeWorker.detach", { sessionId });
        }
      });
    });
    session.post("NodeWorker.enable", { waitForDebuggerOnStart: false });
    await attached;
    return interrupter;
  }

  /** Terminates the script the worker runs now (or, if none, the next one it starts). */
  terminate(): void {
    // A termination that reaches an idle worker hits whatever JavaScript runs next there — another
    // cell, or a module being evaluated, where V8 (Node 20) aborts the whole process.
    if (!this.sessionId || Atomics.load(this.cellRunning, 0) === 0) return;
    const message = JSON.stringify({ id: this.nextId++, method: "Runtime.terminateExecution" });
    this.session.post("NodeWorker.sendMessageToWorker", { sessionId: this.sessionId, message });
  }

  /** Detaches from the worker. */
  close(): void {
    this.session.disconnect();
  }
}
