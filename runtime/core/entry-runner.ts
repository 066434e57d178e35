/**
 * The PE side of collections: builds the elements placed here, runs entry methods on them,
 * and holds messages that arrive before their collection (or sparse element) exists here.
 */
import { CharmError, PeLostError, asError, creationFailure, errorToData } from "../protocol/errors.ts";
import { collectionScope, indexKey, replyKey, sectionScope, type CollectionId, type Endpoint, type Index } from "../protocol/ids.ts";
import type { CollectionRef, ErrorData, Message, ReplyRef } from "../protocol/messages.ts";
import { decodeArgs } from "../protocol/codec.ts";
import { argsFor, sharedArgs } from "./call-args.ts";
import type { Runtime } from "./runtime.ts";
import { chareClass, findChareClass, type ChareClass } from "./registry.ts";

/** How long a PE holds a creation (or a pool task) that a notebook's definitions haven't brought yet. */
export const DEFINITION_WAIT_MS = 2000;
import { constructChare, elementLabel, newRecord, type ElementRecord } from "./chare.ts";
import { forEachIndex, homePe } from "./placement.ts";
import { rejectFuture, sendToFuture } from "./future.ts";
import { isEntryMethod, entryMethodNames } from "./entry-methods.ts";
import { Tracer } from "./entry-trace.ts";
import { ConditionalQueue, type CallOrigin } from "./when.ts";
import { firstTime, noteBroadcast, type MigrationRuntime, type MoveLog } from "./migration.ts";
import { measured } from "../lb/load.ts";
import { membersHere } from "../sections/multicast.ts";
import { Arrivals } from "./arrivals.ts";
import { elementTable, type ElementTable } from "./element-table.ts";

/** What running entry methods uses of its runtime: what moving elements uses (broadcast logs), and failures, sections, tracing. */
export type RunnerRuntime = MigrationRuntime & Pick<Runtime, "failures" | "locate" | "scheduler" | "sections" | "tracer">;

type InvokeMsg = Extract<Message, { t: "invoke" }>;
type BcastMsg = Extract<Message, { t: "bcast" }>;
type ChanMsg = Extract<Message, { t: "chan" }>;
type CreateMsg = Extract<Message, { t: "create" }>;

/** What a caller of `runThen` does with the outcome (a broadcast's reply, for one). */
type Done = (value: unknown, error?: Error) => void;

const NO_REPLY: CallOrigin = Object.freeze({ kind: "invoke" });

/** One collection as seen from this PE. */
export interface LocalCollection {
  ref: CollectionRef;
  created: boolean;
  /** Why creating its elements here failed (an unknown class, a constructor that threw). */
  failed?: ErrorData;
  /** Inserts (charm.insert) that failed here, by index key: they cost that element only. */
  failedInserts?: Map<string, ErrorData>;
  readonly elements: ElementTable;
  /** Messages that arrived before the collection was created here, replayed in order. */
  pending: Message[];
  /** Broadcast history for elements on the move (arrays only; see migration.ts). */
  moves?: MoveLog;
}

/** The entry-method runner of this PE: the collections whose elements it holds, and the calls it runs on them. */
export class EntryRunner {
  readonly byId = new Map<CollectionId, LocalCollection>();
  /** Elements a balancing plan moves here, and messages that arrived before them. */
  readonly arrivals = new Arrivals();

  /** Entry methods suspended at an `await` on this PE now (quiescence reports them: driver/hang-watch.ts). */
  suspended = 0;

  constructor(private readonly rt: RunnerRuntime) {}

  /** The local view of a collection, made on first mention. */
  collection(cid: CollectionId, ref?: CollectionRef): LocalCollection {
    let coll = this.byId.get(cid);
    if (!coll) {
      coll = { ref: ref ?? ({ cid } as CollectionRef), created: false, elements: elementTable(ref?.kind), pending: [] };
      this.byId.set(cid, coll);
    }
    return coll;
  }

  /** Collections destroyed (charm.destroy): only their ids are kept, to refuse late calls. */
  private readonly destroyed = new Set<CollectionId>();

  /** Drops a collection's elements and held messages here; returns how many elements there were. */
  destroy(cid: CollectionId): number {
    this.destroyed.add(cid);
    const coll = this.byId.get(cid);
    this.byId.delete(cid);
    this.arrivals.forget(cid);
    for (const msg of coll?.pending ?? []) this.refuseDestroyed(coll!, msg); // it never got created here
    return coll?.elements.size ?? 0;
  }

  /** Builds the elements of a new collection (or one inserted element) that live on this PE. */
  create(msg: CreateMsg, mayWait = true): void {
    const { ref } = msg;
    if (mayWait && this.interactive && !findChareClass(ref.cls)) {
      this.holdForDefinition(msg);
      return;
    }
    const coll = this.collection(ref.cid, ref);
    coll.ref = ref;
    let count = 0;
    try {
      const cls = chareClass(ref.cls, this.rt.self, this.interactive);
      const indices: Index[] = [];
      if (msg.idx) indices.push(msg.idx);
      else if (ref.kind === "array") forEachIndex(ref.dims!, (idx) => { if (homePe(ref, idx, this.rt.numPes, this.rt.self) === this.rt.self) indices.push(idx); });
      else if (ref.kind === "group") indices.push([this.rt.self]);
      const shared = indices.length > 1 ? sharedArgs(msg.a, msg.r) : undefined;
      for (let i = 0; i < indices.length; i++) {
        this.construct(coll, cls, indices[i]!, shared ?? argsFor(msg.a, msg.r, i === indices.length - 1));
        count++;
        if (msg.idx) coll.failedInserts?.delete(indexKey(msg.idx));
      }
    } catch (err) {
      const e = errorToData(err, this.rt.self, `${ref.cls} constructor`);
      // A failed insert costs only its element: the others (and broadcasts to them) go on.
      // (An index inserted twice leaves the element there is: nothing to note about it.)
      if (msg.idx) { if (!coll.elements.has(indexKey(msg.idx))) (coll.failedInserts ??= new Map()).set(indexKey(msg.idx), e); }
      else coll.failed = e;
      if (msg.ack !== undefined) this.rt.send(msg.ack, { t: "created", cid: ref.cid, pe: this.rt.self, n: count, e });
      else this.rt.reportUnhandled(e);
    } finally {
      coll.created = true;
    }
    if (msg.ack !== undefined) this.rt.send(msg.ack, { t: "created", cid: ref.cid, pe: this.rt.self, n: count });
    this.replay(coll);
  }

  /** Calls waiting for their `when` condition. */
  readonly conditions = new ConditionalQueue();

  /** Notebook mode: classes may arrive as definitions after a creation that needs them. */
  interactive = false;
  private held: CreateMsg[] = [];
  private heldTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly timer = setTimeout;

  /**
   * A creation for a class this PE doesn't know yet. In a notebook, the cell's definitions come
   * from the driver while the creation may come from another PE (a chare creating chares), on
   * another channel with no order between them: wait for the definition, briefly, before
   * calling the class unknown.
   */
  private holdForDefinition(msg: CreateMsg): void {
    this.held.push(msg);
    this.heldTimer ??= this.timer(() => {
      this.heldTimer = undefined;
      this.retryHeld(false);
    }, DEFINITION_WAIT_MS);
  }

  /** New definitions arrived (or the wait is over): creations held for their class go ahead. */
  retryHeld(mayWaitAgain = true): void {
    const held = this.held;
    this.held = [];
    for (const msg of held) this.create(msg, mayWaitAgain);
    if (this.held.length === 0 && this.heldTimer) {
      clearTimeout(this.heldTimer);
      this.heldTimer = undefined;
    }
  }

  private construct(coll: LocalCollection, cls: ChareClass, index: Index, args: unknown[]): void {
    const key = indexKey(index);
    // Replacing a live element would silently drop its state and its place in reductions.
    if (coll.elements.has(key)) throw new CharmError(`${elementLabel(coll.ref, index, key, this.rt.self)} already exists; charm.insert adds new elements only`);
    const record = newRecord(coll.ref, index, key, this.rt.self);
    coll.elements.set(key, record);
    try {
      constructChare(cls as any, args, record);
    } catch (err) {
      coll.elements.delete(key);
      throw err;
    }
  }

  /** Runs an entry method on one element here (or holds the message until it exists). */
  invoke(msg: InvokeMsg): void {
    const coll = this.collection(msg.to.cid, msg.to);
    if (!coll.created) return this.holdUntilCreated(coll, msg);
    const key = indexKey(msg.to.idx!);
    const record = coll.elements.get(key);
    if (!record) {
      const failedInsert = coll.failedInserts?.get(key);
      if (failedInsert === undefined && this.routeAbsent(coll, msg.to.idx!, key, msg)) return;
      const failed = failedInsert ?? coll.failed;
      const why = failed ? `: creating it failed (${creationFailure(failed)})` : "";
      this.fail(msg.reply, new CharmError(`${msg.to.cls}[${key}] does not exist on PE ${this.rt.self}${why}`), `${msg.to.cls}[${key}]`, msg.m);
      return;
    }
    let args: unknown[];
    try {
      args = decodeArgs(msg.a, msg.r);
    } catch (err) {
      // An argument this PE can't rebuild (a class not registered here): the caller is told, not left waiting.
      return this.fail(msg.reply, err, record.label, msg.m);
    }
    this.run(record, msg.m, args, msg.reply);
  }

  /**
   * Holds a message until its collection is created here — unless this PE was restarted and the
   * collection is older than the restart: its chares here are gone, and the caller is told.
   */
  private holdUntilCreated(coll: LocalCollection, msg: Message): void {
    if (this.destroyed.has(coll.ref.cid)) return this.refuseDestroyed(coll, msg);
    const lost = this.rt.failures.replacements.length ? this.rt.failures.lostHere(coll.ref.cid) : undefined;
    if (lost === undefined) { coll.pending.push(msg); return; }
    if (msg.t === "invoke") this.fail(msg.reply, new CharmError(`${msg.to.cls}[${indexKey(msg.to.idx!)}] is gone: PE ${this.rt.self} ${lost}. Create the collection again.`), `${msg.to.cls}[${indexKey(msg.to.idx!)}]`, msg.m);
  }

  /** A message for a destroyed collection: its caller is told, and nothing is kept for it. */
  private refuseDestroyed(coll: LocalCollection, msg: Message): void {
    this.byId.delete(coll.ref.cid); // the entry that mentioning it made
    if (msg.t !== "invoke" && msg.t !== "bcast" && msg.t !== "chan") return;
    const label = msg.t === "invoke" || msg.t === "chan" ? `${msg.to.cls}[${indexKey(msg.to.idx!)}]` : msg.to.cls;
    const what = msg.t === "chan" ? "a channel message" : msg.m;
    this.fail(msg.t === "chan" ? undefined : msg.reply, new CharmError(`${label} was destroyed (charm.destroy); create the collection again to call it`), label, what);
  }

  /** Runs a broadcast entry method on every element of the collection here. */
  broadcast(msg: BcastMsg): void {
    const coll = this.collection(msg.to.cid, msg.to);
    if (!coll.created) return this.holdUntilCreated(coll, msg);
    // A section's multicast runs on its members here, once this PE knows who they are.
    const section = msg.sec === undefined ? undefined : this.rt.sections.get(msg.sec);
    if (msg.sec !== undefined && !section) { this.rt.sections.hold(msg.sec, msg); return; }
    const reply = msg.reply;
    // Its elements here were never made: the broadcast's result can't be complete, so say why now.
    if (coll.failed && !msg.only && !section) {
      const e = new CharmError(`a broadcast to ${coll.ref.cls}.${msg.m} can't reach its elements on PE ${this.rt.self}: creating them failed (${creationFailure(coll.failed)})`);
      return this.fail(reply, e, coll.ref.cls, msg.m);
    }
    const key = reply ? replyKey(reply.fid) : undefined;
    noteBroadcast(this.rt, coll, msg);
    let records: ElementRecord[];
    if (msg.only) {
      // A broadcast forwarded to one element that moved: it may have moved on again.
      const record = coll.elements.get(indexKey(msg.only));
      if (!record) {
        const key = indexKey(msg.only);
        if (!this.routeAbsent(coll, msg.only, key, msg)) this.rt.reportUnhandled(errorToData(new CharmError(`a broadcast to ${coll.ref.cls}.${msg.m} was forwarded to ${coll.ref.cls}[${key}], which is not on PE ${this.rt.self}`), this.rt.self));
        return;
      }
      records = (!section || section.position(record) !== undefined) && firstTime(record, msg.b) ? [record] : [];
    } else if (section) {
      records = membersHere(section, coll, msg.b);
    } else {
      records = [];
      for (const record of coll.elements.values()) if (firstTime(record, msg.b)) records.push(record);
    }
    if (reply) this.rt.reductions.expectReplies(section ? sectionScope(section.sid) : collectionScope(coll.ref.cid), key!, reply, records.length);
    let shared: unknown[] | undefined;
    let undecodable: unknown;
    try {
      shared = records.length > 1 ? sharedArgs(msg.a, msg.r) : undefined;
    } catch (err) {
      undecodable = err;
    }
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      let args: unknown[];
      try {
        if (undecodable !== undefined) throw undecodable;
        args = shared ?? argsFor(msg.a, msg.r, i === records.length - 1);
      } catch (err) {
        // Arguments this PE can't rebuild: each element's call fails as if it had thrown (a reply gets the error).
        const data = errorToData(err, this.rt.self, record.label, msg.m);
        if (!reply) { this.rt.reportUnhandled(data); return; } // once: the others' would say the same
        this.rt.reductions.contributeReply(record, key!, reply, undefined, data, section);
        continue;
      }
      const origin: CallOrigin = { kind: "bcast", b: msg.b, reply, sec: msg.sec };
      if (!reply) { this.run(record, msg.m, args, undefined, origin); continue; }
      this.runThen(record, msg.m, args, origin, (value, error) =>
        this.rt.reductions.contributeReply(record, key!, reply, value, error === undefined ? undefined : errorToData(error, this.rt.self, record.label, msg.m), section));
    }
  }

  /** Delivers a channel message to its element's inbox. */
  channelMessage(msg: ChanMsg): void {
    const coll = this.collection(msg.to.cid, msg.to);
    if (!coll.created) return this.holdUntilCreated(coll, msg);
    const key = indexKey(msg.to.idx!);
    const record = coll.elements.get(key);
    if (!record) {
      if (!this.routeAbsent(coll, msg.to.idx!, key, msg)) this.rt.reportUnhandled(errorToData(new CharmError(`a channel message for ${msg.to.cls}[${key}] reached PE ${this.rt.self}, where that element does not exist`), this.rt.self));
      return;
    }
    this.rt.channels.deliverEncoded(record, msg.from, msg.seq, msg.v, msg.r, this.rt.self);
  }

  /**
   * A message for an element that isn't here: forwarded if it is elsewhere, held if it is on its
   * way here (a plan moved it), held until inserted for a sparse array. False: it doesn't exist.
   */
  private routeAbsent(coll: LocalCollection, idx: Index, key: string, msg: Message): boolean {
    const pe = this.rt.locate(coll.ref, idx);
    if (pe !== this.rt.self) { this.rt.send(pe, msg); return true; } // it moved: forward
    if (this.arrivals.hold(coll.ref.cid, key, msg)) return true;
    const lost = this.arrivals.lostMove(coll.ref.cid, key);
    if (lost) { this.lostWithMove(lost.from, lost.why, msg, "was lost with it while it moved"); return true; }
    if (coll.ref.kind === "sparse") { coll.pending.push(msg); return true; } // inserted later
    return false;
  }

  /** An element a plan moved here arrived, or won't come (it stayed, or its PE died): its held messages go on. */
  releaseHeld(cid: CollectionId, key: string): void {
    for (const msg of this.arrivals.take(cid, key)) this.rt.scheduler.redispatch(msg);
  }

  /** PE `pe` died while elements came here from it: held messages go (lostWithMove); later calls are told (routeAbsent). */
  lostInTransit(pe: Endpoint, why: string): void {
    for (const msg of this.arrivals.takeFrom(pe, why)) this.lostWithMove(pe, why, msg, `was moving from it to PE ${this.rt.self} and was lost with it`);
  }

  // A call waiting for an answer rejects (PeLostError); the rest are lost with the element, as
  // those queued on that PE are: the loss is told once, as the PE's (driver/pe-lost.ts).
  /** A message for an element lost with PE `pe` on its way here. */
  private lostWithMove(pe: Endpoint, why: string, msg: Message, what: string): void {
    if (msg.t !== "invoke" || !msg.reply) return;
    const label = `${msg.to.cls}[${indexKey(msg.to.idx!)}]`;
    rejectFuture(msg.reply.fid, new PeLostError(pe, why, `${label} ${what}; its ${msg.m}() call did not run.`).toData());
  }

  /** Runs an entry method; sends its value or error to the caller's future if one was asked for. */
  run(record: ElementRecord, method: string, args: unknown[], reply: ReplyRef | undefined, origin?: CallOrigin): void {
    // A call without a reply shares one origin: no object (and no callback, see runThen) per call.
    this.runThen(record, method, args, origin ?? (reply ? { kind: "invoke", reply } : NO_REPLY), undefined);
  }

  /** What `run` does with an entry method's outcome: its value or error to the caller's future, if any. */
  private answer(record: ElementRecord, method: string, reply: ReplyRef | undefined, value: unknown, error: Error | undefined): void {
    if (error) return this.fail(reply, error, record.label, method);
    if (!reply) return;
    try {
      sendToFuture(reply.fid, reply.mode === "value" ? value : undefined);
    } catch (encodeError) {
      this.fail(reply, encodeError, record.label, method); // e.g. a return value that can't cross
    }
  }

  /**
   * Runs an entry method and calls `done` with its value, or with what it threw as an Error: a
   * thrown `null` or `undefined` must fail the call, not pass for "no error". Without `done`,
   * the outcome goes to `origin.reply` (`answer`).
   */
  private runThen(record: ElementRecord, method: string, args: unknown[], origin: CallOrigin, done: Done | undefined): void {
    const chare = record.chare as any;
    if (!isEntryMethod(chare.constructor, method)) {
      this.finish(record, method, origin, done, undefined, new CharmError(`${record.ref.cls} has no entry method "${method}"; its entry methods are: ${entryMethodNames(chare.constructor).join(", ")}`));
      return;
    }
    if (!this.conditions.holds(record, method, args)) {
      this.conditions.hold(record, { method, args, origin, run: () => this.runThen(record, method, args, origin, done) });
      return;
    }
    let result: unknown;
    const tracing = this.rt.tracer.on;
    const started = tracing ? Tracer.now() : 0;
    try {
      result = record.ref.lb === undefined ? chare[method](...args) : measured(record, () => chare[method](...args));
    } catch (err) {
      this.finish(record, method, origin, done, undefined, asError(err));
      this.conditions.release(record);
      return;
    } finally {
      if (tracing) this.rt.tracer.record(this.rt.self, `${record.ref.cls}.${method}`, started, args);
    }
    if (result !== null && typeof result === "object" && typeof (result as any).then === "function") {
      record.busy++;
      this.suspended++;
      // Through Promise.resolve: a thenable that isn't a Promise may return nothing from then().
      Promise.resolve(result).then((v) => this.finish(record, method, origin, done, v, undefined), (err) => this.finish(record, method, origin, done, undefined, asError(err))).finally(() => {
        record.busy--;
        this.suspended--;
        this.conditions.release(record);
        if (record.busy === 0 && record.leaving !== undefined) this.rt.balancing.leaveNow(record);
      });
    } else this.finish(record, method, origin, done, result, undefined);
    this.conditions.release(record); // the chare's state may have changed: waiting calls may go now
  }

  private finish(record: ElementRecord, method: string, origin: CallOrigin, done: Done | undefined, value: unknown, error: Error | undefined): void {
    if (done) done(value, error);
    else this.answer(record, method, origin.reply, value, error);
  }

  private fail(reply: ReplyRef | undefined, err: unknown, chare: string, method: string): void {
    const data = errorToData(err, this.rt.self, chare, method);
    if (reply) rejectFuture(reply.fid, data);
    else this.rt.reportUnhandled(data);
  }

  private replay(coll: LocalCollection): void {
    if (coll.pending.length === 0) return;
    const pending = coll.pending;
    coll.pending = [];
    for (const msg of pending) this.rt.scheduler.redispatch(msg);
  }
}
