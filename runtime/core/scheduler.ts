/**
 * The message loop of one endpoint (a PE, or the driver): every message sent goes through
 * `send`, every message that arrives through `handle`, which hands it to the one handler its
 * type has in the table. Messages to self wait in a local queue drained soon after the current
 * turn, so entry methods always run to completion one at a time, even on the same PE.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { DRIVER, type Endpoint } from "../protocol/ids.ts";
import { isControlMessage, type ErrorData, type Message } from "../protocol/messages.ts";
import type { Transport } from "../transport/transport.ts";
import { deferMicrotask } from "../transport/microtask.ts";
import { Traffic } from "./traffic.ts";
import { runBeforeSend } from "./send-hook.ts";

/**
 * One handler per message type, each given its own message and the cause it arrived with. A
 * message type added to the union doesn't compile until the table has its handler.
 */
export type Handlers = { [T in Message["t"]]: (msg: Extract<Message, { t: T }>, cause: number) => void };

// Local messages are drained in microtasks for latency, but never more than this many per
// turn: a chare that keeps messaging itself must not starve arriving messages and timers.
const LOCAL_BUDGET = 512;
// ... nor for longer than this (ms): a chare stepping itself with 250 ms steps kept its PE from
// its event loop for the whole run, so arriving messages waited and, over processes, the
// driver's heartbeat took the PE for stuck after 2 s and killed it.
const LOCAL_SLICE_MS = 10;
// Captured before user code runs (a cell that mocks the clock can't stall messaging).
const now = performance.now.bind(performance);

/** Queue, drain and dispatch of one endpoint's messages, with the counts quiescence needs. */
export class Scheduler {
  /** Messages sent and handled, per peer too (quiescence detection). */
  readonly traffic: Traffic;
  /** Set once the runtime has been shut down: late messages are dropped. */
  closed = false;
  /**
   * What the current work is on behalf of (a notebook cell's number; 0: nothing in particular).
   * Travels with every message sent, so output can be traced to the cell that caused it.
   */
  cause = 0;
  /**
   * Notebook mode: the cause as an async context, so what an entry method prints or sends after
   * an `await` still belongs to the cell that started it (other messages ran in between).
   */
  private causeContext: AsyncLocalStorage<number> | undefined;
  private handlers: Handlers | undefined;
  private readonly localQueue: Message[] = [];
  private readonly localCauses: number[] = [];
  private localHead = 0;
  private drainScheduled = false;
  /** While a checkpoint is taken (`hold`): messages to other endpoints that reach chares, with their causes, in order. */
  private held: Array<[Endpoint, Message, ArrayBuffer[] | undefined, number]> | undefined;
  private holds = 0;
  // A resolved promise's then() schedules a microtask ~5× cheaper than Node's queueMicrotask,
  // which wraps every callback in an AsyncResource. Captured before user code can patch it.
  private readonly defer = deferMicrotask();
  /** Runs `work` after the current turn's I/O (captured before user code can patch it). */
  readonly later = setImmediate;

  /** `report` gets what a handler threw: one bad message must not stop the loop for the others. */
  constructor(readonly self: Endpoint, numPes: number, private readonly transport: Transport, private readonly report: (error: ErrorData) => void) {
    this.traffic = new Traffic(self, numPes);
    transport.listen((msg, cause, from) => this.handle(msg, cause, from));
  }

  /** Installs the handler table (once, before any message can arrive: they arrive in later turns). */
  install(handlers: Handlers): void {
    this.handlers = handlers;
  }

  /** Sends a message to an endpoint (this one included: every call is asynchronous). */
  send(to: Endpoint, msg: Message, transfer?: ArrayBuffer[]): void {
    runBeforeSend(); // what a host armed goes first (send-hook.ts)
    if (this.held !== undefined && to !== this.self && reachesChares(msg)) {
      this.held.push([to, msg, transfer, this.currentCause()]);
      return;
    }
    this.sendNow(to, msg, transfer, this.currentCause());
  }

  private sendNow(to: Endpoint, msg: Message, transfer: ArrayBuffer[] | undefined, cause: number): void {
    if (!isControlMessage(msg)) { this.traffic.sent++; this.traffic.sentTo[to + 1]!++; }
    if (to === this.self) {
      this.localQueue.push(msg);
      this.localCauses.push(cause);
      if (!this.drainScheduled) { this.drainScheduled = true; this.defer(this.drain); }
      return;
    }
    this.transport.send(to, msg, transfer, cause);
  }

  /**
   * From now until as many `release`s: what this endpoint sends that would reach chares elsewhere
   * waits, unsent and uncounted (the driver, while a checkpoint is taken: a widget's handler or
   * another async flow of the program can't change a chare mid-save). Control messages still go.
   */
  hold(): void {
    if (this.holds++ === 0) this.held = [];
  }

  /** Ends one `hold`; the last sends what waited, in order, with the causes it was sent with. */
  release(): void {
    if (this.holds === 0 || --this.holds > 0) return;
    const held = this.held!;
    this.held = undefined;
    if (this.closed) return; // the runtime stopped meanwhile: the futures these would complete were rejected with it
    for (const [to, msg, transfer, cause] of held) this.sendNow(to, msg, transfer, cause);
  }

  /** Messages waiting for a `release` (quiescence isn't reached while any do, except by a checkpoint's own wait). */
  get heldCount(): number {
    return this.held?.length ?? 0;
  }

  /** `later`, counted by quiescence detection like a message to self while the job waits. */
  laterCounted(job: () => void): void {
    const done = this.traffic.pending();
    this.later(() => { done(); job(); });
  }

  /** Follows causes across awaits from now on (notebook mode: costs an async context per message). */
  trackCauses(): void {
    this.causeContext ??= new AsyncLocalStorage<number>();
  }

  /** What the current work is on behalf of (see `cause`). */
  currentCause(): number {
    return this.causeContext?.getStore() ?? this.cause;
  }

  /** Hands one arriving message to its handler. */
  handle(msg: Message, cause = this.cause, from = this.self): void {
    // Messages still in flight when this runtime was shut down belong to nobody now.
    if (this.closed) return;
    if (!isControlMessage(msg)) { this.traffic.handled++; this.traffic.handledFrom[from + 1]!++; }
    const onPe = this.self !== DRIVER;
    // A PE works on behalf of whatever caused the message (a notebook cell); what it sends and
    // prints now carries the same cause. The driver keeps its own: the running cell's.
    if (onPe) this.cause = cause;
    try {
      if (this.causeContext && onPe) this.causeContext.run(cause, this.dispatch, msg, cause);
      else this.dispatch(msg, cause);
    } catch (err) {
      this.report({ name: (err as Error)?.name ?? "Error", message: `while handling a "${msg.t}" message: ${(err as Error)?.message ?? String(err)}`, stack: (err as Error)?.stack ?? "", pe: this.self });
    }
  }

  /** Handles a message again that was held back (already counted when it first arrived). */
  redispatch(msg: Message): void {
    this.traffic.handled--;
    this.traffic.handledFrom[this.self + 1]!--;
    this.handle(msg);
  }

  private readonly dispatch = (msg: Message, cause: number): void => {
    const handler = this.handlers![msg.t] as ((m: Message, cause: number) => void) | undefined;
    if (!handler) throw new Error(`unknown message type ${msg.t}`);
    handler(msg, cause);
  };

  private readonly drain = (): void => {
    let budget = LOCAL_BUDGET;
    const started = now();
    while (this.localHead < this.localQueue.length && budget-- > 0) {
      const msg = this.localQueue[this.localHead]!;
      const cause = this.localCauses[this.localHead]!;
      this.localQueue[this.localHead++] = undefined as unknown as Message;
      this.handle(msg, cause);
      if (now() - started > LOCAL_SLICE_MS) break;
    }
    if (this.localHead < this.localQueue.length) {
      this.later(this.drain); // yield to I/O, then go on
      return;
    }
    this.localQueue.length = 0;
    this.localCauses.length = 0;
    this.localHead = 0;
    this.drainScheduled = false;
  };
}

/** What a hold keeps back: the counted traffic (calls, creations, futures, reductions, channels…), and destruction. */
function reachesChares(msg: Message): boolean {
  return !isControlMessage(msg) || msg.t === "destroy";
}
