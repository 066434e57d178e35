/**
 * One endpoint's runtime (a PE, or the driver): its scheduler and transport, its futures, the
 * collections it hosts, ids and element locations, and the subsystems that own each kind of
 * message (the handler table that joins them is runtime/assemble.ts).
 */
import { DRIVER, INCARNATION_IDS, counterOf, homeOf, makeId, type CollectionId, type Endpoint, type FutureId, type Index } from "../protocol/ids.ts";
import type { CollectionRef, DroppedOutput, ErrorData, Message } from "../protocol/messages.ts";
import type { Transport } from "../transport/transport.ts";
import type { FutureState } from "./future.ts";
import { Scheduler, type Handlers } from "./scheduler.ts";
import { homePe, sizeOf } from "./placement.ts";
import { EntryRunner } from "./entry-runner.ts";
import { Reductions } from "../collectives/reduction.ts";
import { ChannelInboxes } from "../channels/inbox.ts";
import { QuiescenceProbe } from "./quiescence.ts";
import { CreationTracker } from "./creation.ts";
import { Census } from "./census.ts";
import { Tracer } from "./entry-trace.ts";
import { Balancing } from "../lb/balancer.ts";
import { Failures } from "./failure.ts";
import { Sections } from "../sections/registry.ts";

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
  onDefine?(code: string, fid: FutureId, plain: boolean): void;
  /** A PE printed (notebook mode; driver only), with the cause of the work that printed it and the PE that did. */
  onOutput?(stream: "stdout" | "stderr", text: string, cause: number, pe: number, dropped?: DroppedOutput): void;
  /** A PE answered the heartbeat (driver of PE processes only). */
  onPong?(pe: Endpoint): void;
}

/** Where a migrated element is, and after how many moves that was learned. */
export interface Location {
  pe: number;
  moves: number;
}

/** The per-thread runtime state and message loop. */
export class Runtime {
  /** The message loop: queue, drain, dispatch, and the counts quiescence detection sums. */
  readonly scheduler: Scheduler;
  /** Futures homed here that are still pending. */
  readonly futures = new Map<FutureId, FutureState>();
  /** Runs entry methods on the elements of the collections it holds here (and holds messages that arrive before them). */
  readonly runner: EntryRunner;
  readonly reductions: Reductions;
  readonly channels = new ChannelInboxes();
  readonly quiescence: QuiescenceProbe;
  readonly creations = new CreationTracker();
  readonly census = new Census(this);
  /** Sections whose members this endpoint knows (every endpoint is told once). */
  readonly sections = new Sections(this);
  /** Dead PEs, and the rejections their deaths cause. */
  readonly failures = new Failures(this);
  /**
   * (Driver) How many of the runtime's own long steps (a checkpoint's save, a restore's load)
   * run on each PE now: such a PE may not answer for seconds, and is busy, not stuck.
   */
  readonly stepsOn = new Map<Endpoint, number>();
  /** Load balancing and on-request moves of this PE's elements. */
  readonly balancing: Balancing = new Balancing(this);
  /** Entry-method timeline recorder (off unless charm.timeline is running). */
  readonly tracer = new Tracer();
  /** Where migrated elements went, overriding their home placement (cid → index key → where). */
  readonly locations = new Map<CollectionId, Map<string, Location>>();

  /** The balancer arrays created with `useAtSync` use unless they name one. */
  defaultBalancer = "greedy";
  private futureCounter = 0;
  private broadcastCounter = 0;
  private collectionCounter = 0;
  private singletonCursor: number;
  private everyPe: number[] | undefined;

  /**
   * Where this runtime's run began: ids at or below it were minted by an earlier run. Set at
   * construction; a runtime that continues an earlier one's run (continueFrom) takes that one's.
   */
  firstCounter: number;

  /** What restarted the runtime into this one, when it wasn't charm.restart() itself (charm.recover(), which hands back new proxies). */
  restartedBy: string | undefined = undefined;
  /**
   * Driver: which process each PE lives in (PE processes: their slot; the driver's own threads
   * share one), so that an in-memory checkpoint's copy goes to another process; undefined when
   * every PE is a thread of this process.
   */
  peProcess: ((pe: Endpoint) => number) | undefined = undefined;

  /** `handlers` builds the table of what each message type does here (runtime/assemble.ts). */
  constructor(readonly self: Endpoint, readonly numPes: number, readonly transport: Transport, readonly hooks: RuntimeHooks, handlers: (rt: Runtime) => Handlers, incarnation = 0) {
    // A PE restarted in place (or a driver's next runtime) mints ids its predecessor never did (see INCARNATION_IDS).
    // A literal 0 for a first incarnation: 0 × 2^32 is a double, and counters that start as
    // doubles make every id a boxed double (a heap number in every ref that holds one).
    this.firstCounter = incarnation === 0 ? 0 : incarnation * INCARNATION_IDS;
    this.futureCounter = this.collectionCounter = this.broadcastCounter = this.firstCounter;
    this.runner = new EntryRunner(this);
    this.reductions = new Reductions(this);
    this.quiescence = new QuiescenceProbe(this);
    this.singletonCursor = Math.max(0, self);
    this.scheduler = new Scheduler(self, numPes, transport, (error) => this.reportUnhandled(error));
    this.scheduler.install(handlers(this));
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

  /**
   * Continues an earlier runtime's run (automatic recovery restarts every PE): its ids stay this
   * run's (proxies the program holds keep working), ids minted here go on past all of its, and its
   * pending futures `kept` are homed here under their ids, still awaited by whoever awaited them.
   */
  continueFrom(old: Runtime, kept: Iterable<[FutureId, FutureState]>): void {
    this.firstCounter = old.firstCounter;
    this.futureCounter = Math.max(this.futureCounter, old.futureCounter);
    this.collectionCounter = Math.max(this.collectionCounter, old.collectionCounter);
    this.broadcastCounter = Math.max(this.broadcastCounter, old.broadcastCounter);
    for (const [id, state] of kept) this.futures.set(id, state);
    // Futures the loss (or the recovery) rejected: a value the old PEs sent for one may still land here.
    for (const fid of old.failures.rejectedByLoss) this.failures.noteRejectedByLoss(fid);
  }

  /** A collection or section id restored as it was: if this endpoint minted it, later ids go past it. */
  reserveId(id: number): void {
    if (homeOf(id) === this.self) this.collectionCounter = Math.max(this.collectionCounter, counterOf(id));
  }

  /** The PE for a new singleton when none was asked for: round robin from this endpoint. */
  nextSingletonPe(): number {
    const pe = this.singletonCursor % this.numPes;
    this.singletonCursor++;
    return pe;
  }

  /** Sends a message to an endpoint (this one included: every call is asynchronous). */
  send(to: Endpoint, msg: Message, transfer?: ArrayBuffer[]): void {
    this.scheduler.send(to, msg, transfer);
  }

  /**
   * Holds what this endpoint sends to chares elsewhere (scheduler.hold) until the returned function
   * is called (once; later calls do nothing): then it goes, in order, and quiescence is looked for again.
   */
  holdSends(): () => void {
    this.scheduler.hold();
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.scheduler.release();
      this.quiescence.resume();
    };
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
}
