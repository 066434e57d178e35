/** The kernel's handle on cell execution: one executor worker thread that holds all cell state. */
import { Worker } from "node:worker_threads";
import type {
  CellOutput,
  CellResult,
  CommOutcome,
  CommWire,
  CompleteResult,
  FromWorker,
  InputRequest,
  InspectResult,
  ToWorker,
} from "./protocol.ts";
import { Interrupter } from "./interrupter.ts";
import type { IsCompleteResult } from "./is-complete.ts";
import { cellCompleteness } from "./syntax-check.ts";
import { LanguageService } from "./language/client.ts";
import { TypeChecks, reportWhenChecked } from "./type-check.ts";
import { settledWithin } from "./settled-within.ts";
import { watchTimeLimit } from "./time-limit.ts";
import { interrupted } from "./interrupted.ts";
import { StreamJoiner } from "./stream-joiner.ts";
import { workerScript } from "./worker-bundle.ts";
import type { Prestart } from "../../runtime/embedding.ts";
import { ANSI } from "../../runtime/embedding.ts";

export type { CellOutput, CellResult, CommOutcome, CommWire, CompleteResult, InputRequest, InspectResult } from "./protocol.ts";

/** What a running cell needs from the kernel: somewhere to put outputs, and a way to ask for input. */
export interface ExecuteHooks {
  output(output: CellOutput): void;
  input(request: InputRequest): Promise<string>;
}

interface RunningCell {
  id: number;
  hooks: ExecuteHooks;
  resolve(result: CellResult): void;
  /** How an interrupt reached the cell: its thread was free (an await), or it had to be stopped. */
  stopped?: "await" | "running";
  /** The worker took the interrupt: nothing more to stop (its reply may take a moment: stuck PEs are restarted first). */
  taken?: boolean;
}

// Captured before any cell code runs anywhere: a cell that replaces setTimeout can't break the executor's own timers.
const { setTimeout: safeSetTimeout } = globalThis;
const WARM_UP_DELAY_MS = 1500;
// At close: how long a running cell may take to end once interrupted (the interrupter retries
// for about a second), then how long the worker may take to stop the runtime (PEs get 2 s to stop).
const INTERRUPT_WAIT_MS = 1000;
const RUNTIME_STOP_MS = 3000;


/**
 * Runs cells in a dedicated worker so the kernel's thread (sockets, heartbeat, control, SIGINT)
 * stays responsive while a cell computes. Cells run one at a time, in call order.
 */
export class CellExecutor {
  /** Receives output that arrives while no cell runs (a timer's `console.log`); else it waits for the next cell. */
  onLateOutput?: (output: CellOutput) => void;

  /** Called when the worker died on its own (out of memory…): all cell state is gone; start a new executor. */
  onExit?: (reason: string) => void;

  /**
   * Receives a comm message that a comm handler sent (or what it started), with the `origin`
   * given to `deliverComm` for the message that ran the handler.
   */
  onCommOutput?: (origin: unknown, message: CommWire) => void;

  /** Receives the report of a comm handler that failed while no cell ran (a cell shows it on its stderr). */
  onCommError?: (text: string) => void;

  private state: "running" | "closing" | "closed" = "running";
  private running: RunningCell | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly lateOutputs: CellOutput[] = [];
  private readonly propertyRequests = new Map<number, (names: string[]) => void>();
  private readonly commDeliveries = new Map<number, (outcome: CommOutcome) => void>();
  private readonly history: string[] = [];
  private readonly language: LanguageService;
  private readonly typeChecks: TypeChecks | null;
  private nextId = 1;
  private cellCount = 0;
  private readonly names = new Set<string>();
  private readonly streams = new StreamJoiner();

  private constructor(
    private readonly worker: Worker,
    private readonly interrupter: Interrupter,
    cwd: string,
    typeCheck: boolean,
  ) {
    this.language = new LanguageService(cwd, (expression) => this.propertyNames(expression));
    this.typeChecks = typeCheck ? new TypeChecks(this.language) : null;
    worker.on("message", (message: FromWorker) => this.onMessage(message));
    let failure = "";
    worker.on("error", (error) => {
      failure = `the executor worker failed: ${error.message}`;
      this.failRunning(failure);
    });
    worker.on("exit", (code) => {
      const unexpected = this.state === "running";
      if (unexpected) this.failRunning(failure || `the executor worker exited with code ${code}`);
      this.state = "closed";
      this.interrupter.close();
      void this.language.close();
      this.endCommDeliveries();
      if (unexpected) this.onExit?.(failure || `the executor worker exited with code ${code}`);
    });
  }

  /** Spawns the executor worker; resolves when it can run cells. */
  static async start(options: { cwd: string; typeCheck?: boolean; maxHeapMb?: number; pes?: Prestart }): Promise<CellExecutor> {
    if (typeof options?.cwd !== "string") throw new TypeError("CellExecutor.start: options.cwd must be the notebook's folder");
    const cellRunning = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(await workerScript(), {
      // PE threads already booting (runtime/driver/prestart.ts), for the runtime this worker drives.
      workerData: { role: "cells", cwd: options.cwd, cellRunning, pes: options.pes?.handoff },
      transferList: options.pes?.transfer ?? [],
      name: "charm4ts-cells",
      // A cell that exhausts memory ends this worker (ERR_WORKER_OUT_OF_MEMORY), not the kernel.
      ...(options.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } } : {}),
      // Lets the worker resolve imports from the notebook's folder with ESM rules (`import.meta.resolve(s, parent)`).
      execArgv: ["--experimental-import-meta-resolve"],
      stdout: false,
      stderr: false,
    });
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: FromWorker): void => {
        if (message.type === "ready") {
          worker.off("message", onMessage);
          resolve();
        }
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the executor worker exited with code ${code} while starting`)));
    });
    const [interrupter] = await Promise.all([Interrupter.attach(worker, cellRunning), ready]);
    const executor = new CellExecutor(worker, interrupter, options.cwd, options.typeCheck ?? true);
    // Load the language service soon, but not during start-up (2 cores: the kernel and the PEs
    // start now), so the first completion doesn't pay seconds of TypeScript and lib loading.
    safeSetTimeout(() => executor.language.warmUp(), WARM_UP_DELAY_MS).unref();
    return executor;
  }

  /**
   * Runs one cell; resolves after every output of the cell has been passed to `hooks.output`.
   * `options.name` names the cell in tracebacks (e.g. "cell-5.ts" for execution_count 5).
   */
  execute(code: string, hooks: ExecuteHooks, options: { name?: string } = {}): Promise<CellResult> {
    const run = this.queue.then(() => this.runCell(code, hooks, options.name));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Completion at a code-point cursor: TypeScript over the cell history, then live property names. */
  complete(code: string, cursorPos: number): Promise<CompleteResult> {
    return this.language.complete(this.history, code, cursorPos);
  }

  /** Documentation and type of the name under a code-point cursor. */
  inspect(code: string, cursorPos: number, detailLevel: number): Promise<InspectResult> {
    return this.language.inspect(this.history, code, cursorPos, detailLevel);
  }

  /** Whether `code` is ready to run (Jupyter `is_complete`); `indent` only when incomplete. */
  isComplete(code: string): Promise<IsCompleteResult> {
    return cellCompleteness(code);
  }

  /**
   * Stops the running cell within a second: a busy loop or a pending await. Cell state is kept.
   * Its reply follows once the PEs have been checked (a stuck PE is restarted first, ~1–2 s).
   */
  interrupt(): void {
    const cell = this.running;
    if (!cell) return this.interruptCommHandler();
    cell.stopped = "await";
    this.post({ type: "interrupt", id: cell.id });
    // A free worker answers the message at once. A busy one is stopped from outside; retried
    // because a termination that lands between two scripts hits the next one instead.
    let attempts = 0;
    const retry = (): void => {
      if (this.running !== cell || cell.taken || attempts++ >= 4) return;
      cell.stopped = "running";
      this.interrupter.terminate();
      this.post({ type: "interrupt", id: cell.id });
      safeSetTimeout(retry, 200).unref();
    };
    safeSetTimeout(retry, 100).unref();
  }

  /**
   * No cell runs, but a comm handler may be stuck in a loop (its delivery unanswered): it is
   * stopped from outside as a busy cell is, and the message posted after the termination makes
   * the worker answer the delivery that was cut short (worker/comms.ts settleCutShort).
   */
  private interruptCommHandler(): void {
    const pending = [...this.commDeliveries.keys()];
    if (pending.length === 0) return;
    let attempts = 0;
    const retry = (): void => {
      if (this.running || !pending.some((id) => this.commDeliveries.has(id)) || attempts++ >= 4) return;
      this.interrupter.terminate();
      // Id 0 is no cell's: the message only wakes the worker once the handler has unwound.
      this.post({ type: "interrupt", id: 0 });
      safeSetTimeout(retry, 200).unref();
    };
    safeSetTimeout(retry, 100).unref();
  }

  /**
   * Ends the worker; a running cell fails with an error saying so. The worker stops the runtime
   * first: terminating it while a socket to PE processes still receives would abort the kernel
   * (zeromq.js#411). A running cell is interrupted so that the worker is free to do that.
   */
  async close(): Promise<void> {
    if (this.state !== "running") return;
    await this.interruptRunning();
    const closed = new Promise<void>((resolve) => {
      this.worker.on("message", (message: FromWorker) => { if (message.type === "closed") resolve(); });
      this.worker.once("exit", () => resolve());
    });
    this.post({ type: "close" });
    this.state = "closing";
    this.endCommDeliveries();
    this.failRunning("the executor was closed");
    this.interrupter.close();
    await Promise.all([this.language.close(), settledWithin(closed, RUNTIME_STOP_MS)]);
    await this.worker.terminate();
    this.state = "closed";
  }

  /** Interrupts the running cell, if any, and waits (a while) for its result. */
  private async interruptRunning(): Promise<void> {
    const cell = this.running;
    if (!cell) return;
    const ended = new Promise<void>((resolve) => {
      const settle = cell.resolve;
      cell.resolve = (result) => { settle(result); resolve(); };
    });
    this.interrupt();
    await settledWithin(ended, INTERRUPT_WAIT_MS);
  }

  /**
   * Delivers a frontend's comm message to the handlers cells registered. It doesn't wait for the
   * running cell: the handler runs between the cell's awaits, and this resolves once it has run
   * (its synchronous part; what it sends arrives through `onCommOutput` first). Deliveries keep
   * their order. `origin` travels with everything the handler sends.
   */
  deliverComm(message: CommWire, origin: unknown): Promise<CommOutcome> {
    if (this.state !== "running") return Promise.resolve({ kind: "gone" });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.commDeliveries.set(id, resolve);
      this.post({ type: "comm", id, message, origin });
    });
  }

  private endCommDeliveries(): void {
    for (const resolve of this.commDeliveries.values()) resolve({ kind: "gone" });
    this.commDeliveries.clear();
  }

  /** Live property names for `expression.` (empty: top-level names), from the executor's state. */
  propertyNames(expression: string): Promise<string[]> {
    if (this.state !== "running") return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.propertyRequests.set(id, resolve);
      this.post({ type: "property-names", id, expression });
      // A cell in a busy loop can't answer: completion falls back to the static names.
      safeSetTimeout(() => this.propertyRequests.get(id)?.([]), 300).unref();
    });
  }

  private runCell(code: string, hooks: ExecuteHooks, name?: string): Promise<CellResult> {
    if (this.state !== "running") return Promise.reject(new Error("CellExecutor: closed; start a new one"));
    for (const output of this.lateOutputs.splice(0)) hooks.output(output);
    const id = this.nextId++;
    ++this.cellCount;
    // Names must stay unique: a remapped cell's source map is looked up by name.
    const wanted = name && /^[\w.-]+\.ts$/.test(name) && !this.names.has(name) ? name : `cell-${this.cellCount}.ts`;
    const cellName = this.names.has(wanted) ? `cell-${this.cellCount}-${this.nextId}.ts` : wanted;
    this.names.add(cellName);
    const history = [...this.history];
    const check = this.typeChecks?.check(history, code, cellName);
    let stopTimer: (() => void) | undefined;
    return new Promise<CellResult>((resolve) => {
      const cell: RunningCell = { id, hooks, resolve };
      this.running = cell;
      this.post({ type: "execute", id, code, cellName });
      // Over its time limit, it says so and is interrupted like any other (PEs stuck in it restarted).
      stopTimer = watchTimeLimit(code, (notice) => { if (this.running === cell) { this.toCell(cell, notice); this.interrupt(); } }, (notice) => this.toCell(cell, notice));
    }).then(async (result) => {
      stopTimer?.();
      // The cell's type errors are part of its output, before its reply (an interrupted cell doesn't wait).
      const ended = result.status === "error" && (result.ename === "Interrupted" || result.ename === "ExecutorError");
      if (check && !ended) await reportWhenChecked(check, hooks.output);
      // A cell that failed at run time may still have declared names; a syntax error declared none.
      const declaredSomething = result.status === "ok" || (result.ename !== "SyntaxError" && result.ename !== "ExecutorError");
      if (declaredSomething) this.history.push(code);
      return result;
    });
  }

  /** Delivers an output of the running cell (stream writes of one turn joined: stream-joiner.ts). */
  private toCell(cell: RunningCell, output: CellOutput): void {
    this.streams.add(cell, cell.hooks.output, output);
  }

  private flushStream(): void {
    this.streams.flush();
  }

  private deliverLate(output: CellOutput): void {
    if (this.onLateOutput) this.onLateOutput(output);
    else this.lateOutputs.push(output);
  }

  private onMessage(message: FromWorker): void {
    switch (message.type) {
      case "ready":
      case "closed": // awaited by close()
        return;
      case "output":
        // Output of no cell (a timer's) while another cell runs goes to that one: it is the request
        // being served, as ipykernel does. Only output between cells is late.
        if (this.running && (message.id === this.running.id || message.id === null)) this.toCell(this.running, message.output);
        else {
          this.flushStream();
          this.deliverLate(message.output);
        }
        return;
      case "interrupting":
        if (this.running?.id === message.id) this.running.taken = true;
        return;
      case "input-request":
        this.flushStream();
        this.answerInput(message.id, message.cellId, message.request);
        return;
      case "result":
        if (this.running?.id === message.id) {
          this.flushStream(); // every output of the cell before its result
          const { resolve, stopped } = this.running;
          this.running = null;
          resolve(message.result.status === "error" && message.result.ename === "Interrupted" ? interrupted(stopped, message.result.evalue) : message.result);
        }
        return;
      case "property-names":
        this.propertyRequests.get(message.id)?.(message.names);
        this.propertyRequests.delete(message.id);
        return;
      case "comm-handled":
        this.commDeliveries.get(message.id)?.(message.outcome);
        this.commDeliveries.delete(message.id);
        return;
      case "comm-output":
        this.onCommOutput?.(message.origin, message.message);
        return;
      case "comm-error":
        this.onCommError?.(message.text);
        return;
      default:
        message satisfies never;
    }
  }

  private answerInput(id: number, cellId: number, request: InputRequest): void {
    const cell = this.running;
    if (!cell || cell.id !== cellId) {
      this.post({ type: "input-reply", id, value: "", error: "input() was called after its cell ended" });
      return;
    }
    cell.hooks.input(request).then(
      (value) => this.post({ type: "input-reply", id, value }),
      (error: unknown) => this.post({ type: "input-reply", id, value: "", error: String(error) }),
    );
  }

  private failRunning(reason: string): void {
    const cell = this.running;
    if (!cell) return;
    this.flushStream();
    this.running = null;
    cell.resolve({ status: "error", ename: "ExecutorError", evalue: reason, traceback: [`${ANSI.name("ExecutorError")}: ${reason}`] });
  }

  private post(message: ToWorker): void {
    if (this.state === "running") this.worker.postMessage(message);
  }
}
