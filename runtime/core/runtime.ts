/**
 * One endpoint's runtime (a PE, or the driver): its transport, its futures, the collections it
 * hosts, and the loop that hands each arriving message to the code that owns it. Every proxy
 * call is a message, even to the same PE: local messages go through a queue drained soon
 * after the current turn, so entry methods always run to completion one at a time.
 */
import { DRIVER, INCARNATION_IDS, makeId, type CollectionId, type Endpoint, type FutureId, type Index } from "../protocol/ids.ts";
import { isControlMessage, type CollectionRef, type ErrorData, type Message } from "../protocol/messages.ts";
import { AsyncLocalStorage } from "node:async_hooks";
import type { Transport } from "../transport/transport.ts";
import { deferMicrotask } from "../transport/microtask.ts";
import type { FutureState } from "./future.ts";
import { failLocal, sendToFuture, settleLocal } from "./future.ts";
import { decode } from "../protocol/codec.ts";
import { homePe, sizeOf } from "./placement.ts";
import { HostedCollections } from "./host.ts";
import { Reductions } from "../collectives/reduction.ts";
import { ChannelInboxes } from "../channels/inbox.ts";
import { QuiescenceProbe } from "./quiescence.ts";
import { CreationTracker } from "./creation.ts";
import { Census } from "./census.ts";
import { peStatus } from "../interactive/status.ts";
import { Tracer } from "../interactive/trace.ts";
import { Balancing } from "../lb/balancer.ts";
import { immigrate } from "./migration.ts";
import { forgetCollection } from "./destroy.ts";
import { Failures } from "./failure.ts";
import { Sections } from "../sections/registry.ts";
import { checkpointStep } from "../checkpoint/steps.ts";

/** What the embedding (driver or PE worker) decides: where unobserved errors go, how to stop. */
export interface RuntimeHooks {
  /** An error nobody awaited (the driver's runtime only; PEs forward theirs to the driver). */
  onUnhandled(error: ErrorData): void;
  /** A "stop" message arrived (PE workers end their thread). */
  onStop?(): void;
  /** A PE finished loading (driver only). */
  onReady?(pe: Endpoint, error?: ErrorData): void;
  /** Some endpoint asked the program to end (driver only). */
  onExit?(code: number, reason?: string): void;
  /** Interactive definitions arrived (PEs only); the future gets one value per PE. */
  onDefine?(code: string, fid: FutureId): void;
  /** A PE printed (notebook mode; driver only), with the cause of the work that printed it and the PE that did. */
  onOutput?(stream: "stdout" | "stderr", text: string, cause: number, pe: number): void;
  /** A PE answered the heartbeat (driver of PE processes only). */
  onPong?(pe: Endpoint): void;
}

/** Where a migrated element is, and after how many moves that was learned. */
export interface Location {
  pe: number;
  moves: number;
}

// Local messages are drained in microtasks for latency, but never more than this many per
// turn: a chare that keeps messaging itself must not starve arriving messages and timers.
const LOCAL_BUDGET = 512;

/** The per-thread runtime state and message loop. */
export class Runtime {
  /** Messages sent and handled (quiescence detection compares their global sums). */
  sent = 0;
  handled = 0;
  /** The same per peer (index endpoint + 1), so a dead PE's traffic can be left out of the sums. */
  readonly sentTo: number[];
  readonly handledFrom: number[];
  /** Futures homed here that are still pending. */
  readonly futures = new Map<FutureId, FutureState>();
  /** Collections with elements (or pending messages) on this PE. */
  readonly host: HostedCollections;
  readonly reductions: Reductions;
  readonly channels = new ChannelInboxes();
  readonly quiescence: QuiescenceProbe;
  readonly creations = new CreationTracker();
  readonly census = new Census(this);
  /** Sections whose members this endpoint knows (every endpoint is told once). */
  readonly sections = new Sections(this);
  /** Dead PEs, and the rejections their deaths cause. */
  readonly failures = new Failures(this);
  /** Load balancing and on-request moves of this PE's elements. */
  readonly balancing = new Balancing(this);
  /** Entry-method timeline recorder (off unless charm.timeline is running). */
  readonly tracer = new Tracer();
  /** Where migrated elements went, overriding their home placement (cid → index key → where). */
  readonly locations = new Map<CollectionId, Map<string, Location>>();

  /** The balancer arrays created with `useAtSync` use unless they name one. */
  defaultBalancer = "greedy";
  /** Set once the runtime has been shut down: late messages are dropped. */
  closed = false;
  private futureCounter = 0;
  private broadcastCounter = 0;
  private collectionCounter = 0;
  private singletonCursor: number;
  private readonly localQueue: Message[] = [];
  private readonly localCauses: number[] = [];
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
  private localHead = 0;
  private drainScheduled = false;
  private everyPe: number[] | undefined;
  // A resolved promise's then() schedules a microtask ~5× cheaper than Node's queueMicrotask,
  // which wraps every callback in an AsyncResource. Captured before user code can patch it.
  private readonly defer = deferMicrotask();
  /** Runs `work` after the current turn's I/O (captured before user code can patch it). */
  readonly later = setImmediate;

  /**
   * `later`, counted by quiescence detection like a message to self: while the job waits, the
   * runtime isn't quiet (a waitQD must not end between an AtSync and the load report it causes).
   */
  laterCounted(job: () => void): void {
    this.sent++;
    this.sentTo[this.self + 1]!++;
    this.later(() => {
      this.handled++;
      this.handledFrom[this.self + 1]!++;
      job();
    });
  }

  /** Where this runtime's id counters started: ids at or below it were minted by an earlier one. */
  readonly firstCounter: number;

  constructor(readonly self: Endpoint, readonly numPes: number, readonly transport: Transport, readonly hooks: RuntimeHooks, incarnation = 0) {
    // A PE restarted in place (or a driver's next runtime) mints ids its predecessor never did (see INCARNATION_IDS).
    this.firstCounter = incarnation * INCARNATION_IDS;
    this.futureCounter = this.collectionCounter = this.broadcastCounter = this.firstCounter;
    this.host = new HostedCollections(this);
    this.reductions = new Reductions(this);
    this.quiescence = new QuiescenceProbe(this);
    this.singletonCursor = Math.max(0, self);
    this.sentTo = new Array<number>(numPes + 1).fill(0);
    this.handledFrom = new Array<number>(numPes + 1).fill(0);
    transport.listen((msg, cause, from) => this.handle(msg, cause, from));
  }

  /** Whether this endpoint is the driver (hosts no chares). */
  get isDriver(): boolean {
    return this.self === DRIVER;
  }

  /** A fresh future id homed here. */
  newFutureId(): FutureId {
    return makeId<FutureId>(++this.futureCounter, this.self);
  }

  /** A fresh broadcast id minted here (elements that moved use it to run each broadcast once). */
  newBroadcastId(): number {
    return makeId<FutureId>(++this.broadcastCounter, this.self);
  }

  /** How many collection ids this endpoint has minted (a restart's watermark). */
  get collectionCount(): number {
    return this.collectionCounter;
  }

  /** A fresh collection id minted here. */
  newCollectionId(): CollectionId {
    return makeId<CollectionId>(++this.collectionCounter, this.self);
  }

  /** The PE for a new singleton when none was asked for: round robin from this endpoint. */
  nextSingletonPe(): number {
    const pe = this.singletonCursor % this.numPes;
    this.singletonCursor++;
    return pe;
  }

  /** Sends a message to an endpoint (this one included: every call is asynchronous). */
  send(to: Endpoint, msg: Message, transfer?: ArrayBuffer[]): void {
    if (!isControlMessage(msg)) { this.sent++; this.sentTo[to + 1]!++; }
    if (to === this.self) {
      this.localQueue.push(msg);
      this.localCauses.push(this.currentCause());
      if (!this.drainScheduled) { this.drainScheduled = true; this.defer(this.drain); }
      return;
    }
    this.transport.send(to, msg, transfer, this.currentCause());
  }

  /** Follows causes across awaits from now on (notebook mode: costs an async context per message). */
  trackCauses(): void {
    this.causeContext ??= new AsyncLocalStorage<number>();
  }

  /** What the current work is on behalf of (see `cause`). */
  currentCause(): number {
    return this.causeContext?.getStore() ?? this.cause;
  }

  /** The PE an element lives on now (its home, unless it migrated). */
  locate(ref: CollectionRef, index: Index): number {
    const moved = this.locations.get(ref.cid);
    if (moved) {
      const where = moved.get(index.join(","));
      if (where !== undefined) return where.pe;
    }
    return homePe(ref, index, this.numPes, this.self);
  }

  /**
   * Records where an element is after its `moves`-th move; older news than what we know is
   * ignored (false).
   */
  noteLocation(cid: CollectionId, key: string, pe: number, moves: number): boolean {
    let moved = this.locations.get(cid);
    if (!moved) this.locations.set(cid, (moved = new Map()));
    const known = moved.get(key);
    if (known && known.moves > moves) return false;
    moved.set(key, { pe, moves });
    return true;
  }

  /** Sends a message to the PE that holds an element. */
  sendToElement(ref: CollectionRef, index: Index, msg: Message, transfer?: ArrayBuffer[]): void {
    this.send(this.locate(ref, index), msg, transfer);
  }

  /** Sends a message to every PE that may hold elements of a collection. */
  broadcast(ref: CollectionRef, msg: Message): void {
    for (const pe of this.participants(ref)) this.send(pe, msg);
  }

  /**
   * The PEs a collection's broadcasts and creation go to: a singleton's own, otherwise every PE
   * (elements migrate, so any PE may hold some; a PE with none just has nothing to run).
   */
  participants(ref: CollectionRef): number[] {
    if (ref.kind === "single") return [ref.pe!];
    return (this.everyPe ??= Array.from({ length: this.numPes }, (_, i) => i));
  }

  /** How many elements a collection has (undefined: a sparse array before doneInserting). */
  elementCount(ref: CollectionRef): number | undefined {
    switch (ref.kind) {
      case "single": return 1;
      case "group": return this.numPes;
      case "array": return sizeOf(ref.dims!);
      case "sparse": return this.census.totals.get(ref.cid);
    }
  }

  /** The PE that completes a collection's reductions and broadcast replies. */
  rootPe(ref: CollectionRef): number {
    return ref.kind === "single" ? ref.pe! : 0;
  }

  /** Reports an error nobody will observe otherwise: to the driver, which shows it. */
  reportUnhandled(error: ErrorData): void {
    if (this.isDriver) this.hooks.onUnhandled(error);
    else this.send(DRIVER, { t: "report", e: error });
  }

  /** Hands one arriving message to its owner. */
  handle(msg: Message, cause = this.cause, from = this.self): void {
    // Messages still in flight when this runtime was shut down belong to nobody now.
    if (this.closed) return;
    if (!isControlMessage(msg)) { this.handled++; this.handledFrom[from + 1]!++; }
    // A PE works on behalf of whatever caused the message (a notebook cell); what it sends and
    // prints now carries the same cause. The driver keeps its own: the running cell's.
    if (!this.isDriver) this.cause = cause;
    try {
      if (this.causeContext && !this.isDriver) this.causeContext.run(cause, this.dispatch, msg, cause);
      else this.dispatch(msg, cause);
    } catch (err) {
      // A bug or bad input in one message must not stop the loop for the others.
      this.reportUnhandled({ name: (err as Error)?.name ?? "Error", message: `while handling a "${msg.t}" message: ${(err as Error)?.message ?? String(err)}`, stack: (err as Error)?.stack ?? "", pe: this.self });
    }
  }

  /** Handles a message again that was held back (already counted when it first arrived). */
  redispatch(msg: Message): void {
    this.handled--;
    this.handledFrom[this.self + 1]!--;
    this.handle(msg);
  }

  private readonly dispatch = (msg: Message, cause: number): void => {
    switch (msg.t) {
      case "create": return this.host.create(msg);
      case "created": return this.creations.created(msg.cid, msg.n, msg.e);
      case "invoke": return this.host.invoke(msg);
      case "bcast": return this.host.broadcast(msg);
      case "resolve": return settleLocal(msg.fid, msg.r ? decode(msg.v) : msg.v);
      case "reject": return failLocal(msg.fid, msg.e);
      case "contrib": return this.reductions.receivePartial(msg);
      case "down": return this.reductions.receiveResult(msg);
      case "chan": return this.host.channelMessage(msg);
      case "qdProbe": return this.quiescence.answer(msg.wave);
      case "qdCount": return this.quiescence.count(msg.wave, msg.sent, msg.recv);
      case "report": return this.reportUnhandled(msg.e);
      case "stop": return this.hooks.onStop?.();
      case "ready": return this.hooks.onReady?.(msg.pe, msg.error);
      case "exit": return this.hooks.onExit?.(msg.code, msg.reason);
      case "ping": return this.send(DRIVER, { t: "pong", n: msg.n, pe: this.self });
      case "pong": return this.hooks.onPong?.(msg.pe);
      case "qdStart": return this.quiescence.startQD(msg.target);
      case "define": return this.hooks.onDefine?.(msg.code, msg.fid);
      case "status": return sendToFuture(msg.fid, peStatus(this));
      case "destroy": return sendToFuture(msg.fid, forgetCollection(this, msg.cid));
      case "echo": return sendToFuture(msg.fid, this.self);
      case "trace": return sendToFuture(msg.fid, this.tracer.toggle(msg.on));
      case "output":
        if (this.hooks.onOutput) this.hooks.onOutput(msg.stream, msg.text, cause, msg.pe);
        else process[msg.stream].write(msg.text);
        return;
      case "peDead": return this.failures.heard(msg.pe, msg.why);
      case "counters": return sendToFuture(msg.fid, [this.self, this.collectionCount]);
      case "replaced": return this.failures.replaced(msg.r);
      case "peer":
        this.transport.replacePeer?.(msg.pe, msg.port);
        this.failures.forgetTraffic(msg.pe); // the old incarnation's traffic, up to its port's closing
        return;
      case "migrate": return immigrate(this, msg);
      case "ckpt": return checkpointStep(this, msg);
      case "moved": return this.balancing.moved(msg);
      case "atSync": return this.balancing.receiveLoads(msg);
      case "lbPlan": return this.balancing.applyPlan(msg);
      case "lbHistory": return this.balancing.sendHistory(msg.cid, msg.fid);
      case "section": this.sections.define(msg.def); return;
      case "census": return this.census.answer(msg.cid, msg.from);
      case "censusCount": return this.census.count(msg.cid, msg.pe, msg.n);
      case "members": this.census.totals.set(msg.cid, msg.n); this.reductions.totalKnown(msg.cid); return;
      default: {
        const never: never = msg;
        throw new Error(`unknown message type ${(never as Message).t}`);
      }
    }
  };

  private readonly drain = (): void => {
    let budget = LOCAL_BUDGET;
    while (this.localHead < this.localQueue.length && budget-- > 0) {
      const msg = this.localQueue[this.localHead]!;
      const cause = this.localCauses[this.localHead]!;
      this.localQueue[this.localHead++] = undefined as unknown as Message;
      this.handle(msg, cause);
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
