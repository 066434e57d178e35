/**
 * AtSync load balancing for arrays created with `useAtSync: true`. Each PE waits until every
 * element it holds has called AtSync, then sends their measured loads to the root PE; the
 * root, with every element's load in, asks the array's strategy for a plan and sends the plan
 * to every endpoint. Each PE then moves out what the plan moves out, waits for what it moves
 * in, and calls `resumeFromSync()` on the elements it holds. The strategy only decides
 * (strategies.ts); this file only executes.
 */
import { CharmError, errorToData } from "../protocol/errors.ts";
import { DRIVER, indexKey, type CollectionId, type FutureId } from "../protocol/ids.ts";
import type { CollectionRef, LoadReport, Message, PlannedMove } from "../protocol/messages.ts";
import type { Runtime } from "../core/runtime.ts";
import type { ElementRecord } from "../core/chare.ts";
import { emigrate, type MigrationRuntime } from "../core/migration.ts";
import { sendToFuture } from "../core/future.ts";
import { strategyNamed, type ObjectLoad } from "./strategies.ts";

/** What balancing uses of its runtime: what moving elements uses, and the collections' roots and counts. */
export type BalancingRuntime = MigrationRuntime & Pick<Runtime, "elementCount" | "isDriver" | "rootPe" | "scheduler">;

/** One balancing round of an array, as charm.lbHistory reports it. */
export interface BalancingRound {
  round: number;
  balancer: string;
  /** Measured load per PE (ms of entry-method time since the previous round). */
  before: number[];
  /** Load per PE if the measured loads repeat where the plan puts them. */
  after: number[];
  /** Elements the plan moved. */
  moved: number;
  /** Time from the first PE's report to the plan (ms). */
  ms: number;
}

interface Collecting {
  readonly objs: ObjectLoad[];
  readonly reports: LoadReport[];
  /** Where each element's report is in `objs` (a PE reports again when an element arrives late). */
  readonly at: Map<string, number>;
  readonly pes: number[];
  readonly started: number;
}

/** This PE's part in load balancing (and, on the root, the balancer itself). */
export class Balancing {
  /** Elements each array still expects to arrive in the current round (by cid). */
  private readonly arriving = new Map<CollectionId, number>();
  /** Elements each array still has to send away in the current round. */
  private readonly departing = new Map<CollectionId, number>();
  private readonly collecting = new Map<CollectionId, Collecting>();
  private readonly rounds = new Map<CollectionId, BalancingRound[]>();
  /** Elements per array that have called AtSync this round. */
  private readonly synced = new Map<CollectionId, number>();
  /** Balancing rounds of each array completed on this PE. */
  private readonly applied = new Map<CollectionId, number>();
  /** Elements per array whose loads this PE has sent to the root this round. */
  private readonly reported = new Map<CollectionId, number>();
  /** Arrays whose current plan has reached this PE (elements may arrive before it does). */
  private readonly planSeen = new Set<CollectionId>();
  /** Elements leaving by plan once their suspended entry methods finish. */
  private readonly plannedExits = new WeakSet<ElementRecord>();
  /**
   * Root, with `checkpoint: { everySync }`: every this-many rounds of an array, its plan goes to
   * the driver alone, which checkpoints while every element waits at the barrier, then sends it on.
   */
  holdEvery = 0;

  constructor(private readonly rt: BalancingRuntime) {}

  /** An element called AtSync. */
  atSync(record: ElementRecord): void {
    if (record.ref.lb === undefined) {
      throw new CharmError(`${record.label}.AtSync(): its array was not created for load balancing; create it with charm.array(${record.ref.cls}, dims, { useAtSync: true })`);
    }
    if (record.atSync) return;
    // A move it asked for waits for its suspended entry methods: it syncs on the PE it goes to,
    // so the PE it leaves doesn't count it, nor its load, in this round.
    if (record.leaving !== undefined && !this.plannedExits.has(record)) { record.syncOnArrival = true; return; }
    record.atSync = true;
    record.syncs = (record.syncs ?? 0) + 1;
    const cid = record.ref.cid;
    this.synced.set(cid, (this.synced.get(cid) ?? 0) + 1);
    this.reportSoonIfSynced(cid);
  }

  /** An element left this PE on request: it may have been the last one the others here waited for. */
  departed(record: ElementRecord): void {
    if (record.ref.lb !== undefined && !record.atSync) this.reportSoonIfSynced(record.ref.cid);
  }

  private reportSoonIfSynced(cid: CollectionId): void {
    // Reported after the entry method that called AtSync returns: its own time is part of its load.
    if ((this.synced.get(cid) ?? 0) >= this.rt.runner.collection(cid).elements.size) this.rt.scheduler.laterCounted(() => this.reportIfSynced(cid));
  }

  /** `this.migrate(toPe)` from an element. */
  migrateOnRequest(record: ElementRecord, toPe: number): void {
    emigrate(this.rt, record, toPe, false);
  }

  /** An element whose move waited for its suspended entry methods is free to go now. */
  leaveNow(record: ElementRecord): void {
    const planned = this.plannedExits.has(record);
    this.plannedExits.delete(record);
    this.moveOut(record, record.leaving!, planned);
  }

  /** An element arrived (by plan, or on request). */
  arrived(record: ElementRecord, planned: boolean): void {
    if (!planned) return;
    record.atSync = true; // resumed here with the others
    this.countDown(this.arriving, record.ref.cid);
  }

  /** News of where an element is; for a planned move that failed, one arrival fewer to wait for. */
  moved(msg: Extract<Message, { t: "moved" }>): void {
    const key = indexKey(msg.idx);
    const newer = this.rt.noteLocation(msg.cid, key, msg.pe, msg.n);
    // A planned move here that failed: what was held for the element goes to where it stayed.
    // (Older news, such as an earlier move's announcement, changes nothing.)
    if (newer && msg.pe !== this.rt.self) this.rt.runner.releaseHeld(msg.cid, key);
    if (msg.stayed) this.countDown(this.arriving, msg.cid);
  }

  /**
   * Sends this PE's loads to the root once every element here has called AtSync. An element that
   * migrated here on request and syncs after the others makes this PE report again, all of them:
   * the root keeps one report per element.
   */
  private reportIfSynced(cid: CollectionId): void {
    const coll = this.rt.runner.collection(cid);
    if (!this.synced.has(cid) || this.planSeen.has(cid)) return; // nothing synced since the last plan
    const objs: LoadReport[] = [];
    for (const r of coll.elements.values()) {
      if (!r.atSync) return;
      objs.push([r.index, r.load ?? 0, !r.pinned, r.moves ?? 0]);
    }
    // Reported already (this job was scheduled twice), unless an element arrived and synced since.
    if (objs.length === 0 || objs.length === this.reported.get(cid)) return;
    this.reported.set(cid, objs.length);
    this.rt.send(this.rt.rootPe(coll.ref), { t: "atSync", ref: coll.ref, pe: this.rt.self, objs });
  }

  /** Root: one PE's loads; with every element's in, the plan goes out. */
  receiveLoads(msg: Extract<Message, { t: "atSync" }>): void {
    const cid = msg.ref.cid;
    let c = this.collecting.get(cid);
    if (!c) this.collecting.set(cid, (c = { objs: [], reports: [], at: new Map(), pes: [], started: performance.now() }));
    for (const o of msg.objs) {
      const id = indexKey(o[0]);
      const obj: ObjectLoad = { id, pe: msg.pe, load: o[1], migratable: o[2] };
      const at = c.at.get(id);
      if (at !== undefined && c.reports[at]![3] > o[3]) continue; // an older report (fewer moves) than the one kept
      if (at !== undefined) { c.objs[at] = obj; c.reports[at] = o; continue; }
      c.at.set(id, c.objs.length);
      c.objs.push(obj);
      c.reports.push(o);
    }
    c.pes.push(msg.pe);
    if (c.objs.length < (this.rt.elementCount(msg.ref) ?? Infinity)) return;
    this.collecting.delete(cid);
    this.plan(msg.ref, c);
  }

  private plan(ref: CollectionRef, c: Collecting): void {
    const history = this.rounds.get(ref.cid) ?? [];
    this.rounds.set(ref.cid, history);
    const name = ref.lb!;
    let plan: Map<string, number>;
    try {
      plan = strategyNamed(name)({ objs: c.objs, numPes: this.rt.numPes, round: history.length });
    } catch (err) {
      this.rt.reportUnhandled(errorToData(err, this.rt.self, undefined, `balancer ${name}`));
      plan = new Map();
    }
    const before = new Array<number>(this.rt.numPes).fill(0);
    const after = new Array<number>(this.rt.numPes).fill(0);
    const moves: PlannedMove[] = [];
    for (let i = 0; i < c.objs.length; i++) {
      const o = c.objs[i]!;
      let to = plan.get(o.id) ?? o.pe;
      if (!o.migratable || !Number.isInteger(to) || to < 0 || to >= this.rt.numPes) to = o.pe; // a strategy's mistake moves nothing
      before[o.pe]! += o.load;
      after[to]! += o.load;
      if (to !== o.pe) moves.push([c.reports[i]![0], o.pe, to, c.reports[i]![3] + 1]);
    }
    history.push({ round: history.length, balancer: name, before, after, moved: moves.length, ms: performance.now() - c.started });
    const msg: Extract<Message, { t: "lbPlan" }> = { t: "lbPlan", cid: ref.cid, moves };
    if (this.holdEvery > 0 && history.length % this.holdEvery === 0) {
      this.rt.send(DRIVER, { t: "ckpt", step: "barrier", v: msg }); // the driver sends it on once the checkpoint is taken or skipped
      return;
    }
    for (let pe = 0; pe < this.rt.numPes; pe++) this.rt.send(pe, msg);
    this.rt.send(DRIVER, msg);
  }

  /** Every endpoint: the plan. PEs move elements out, count those coming in, then resume. */
  applyPlan(msg: Extract<Message, { t: "lbPlan" }>): void {
    const self = this.rt.self;
    let incoming = 0;
    const outgoing: ElementRecord[] = [];
    const coll = this.rt.runner.collection(msg.cid);
    for (const [idx, from, to, moves] of msg.moves) {
      const key = indexKey(idx);
      this.rt.noteLocation(msg.cid, key, to, moves);
      if (to === self) {
        incoming++;
        // Others may message it here before it arrives: hold those (see core/arrivals.ts).
        if (!coll.elements.has(key)) this.rt.runner.arrivals.expect(msg.cid, key, from);
      }
      if (from === self) {
        const record = coll.elements.get(key);
        if (record) outgoing.push(record);
      }
    }
    if (this.rt.isDriver) return;
    // Arrivals may have come before the plan (they count down from zero).
    this.arriving.set(msg.cid, (this.arriving.get(msg.cid) ?? 0) + incoming);
    this.departing.set(msg.cid, outgoing.length);
    this.planSeen.add(msg.cid);
    for (const [idx, , to] of msg.moves) {
      const record = outgoing.find((r) => r.index === idx || indexKey(r.index) === indexKey(idx));
      if (record) this.moveOut(record, to, true);
    }
    this.maybeResume(msg.cid);
  }

  private moveOut(record: ElementRecord, to: number, planned: boolean): void {
    try {
      emigrate(this.rt, record, to, planned);
      if (record.leaving !== undefined) { // busy: it goes when its entry methods return
        if (planned) this.plannedExits.add(record);
        return;
      }
    } catch (err) {
      this.rt.reportUnhandled(errorToData(err, this.rt.self, record.label, "migrate"));
      record.leaving = undefined;
      if (planned) {
        // Everyone applied the plan: tell them it stayed, and the PE expecting it not to wait.
        const n = (record.moves ?? 0) + 2;
        record.moves = n; // its next move must be newer news than this notice, everywhere
        this.rt.noteLocation(record.ref.cid, record.key, this.rt.self, n);
        const notice: Message = { t: "moved", cid: record.ref.cid, idx: record.index, pe: this.rt.self, n, stayed: 1 };
        for (let pe = 0; pe < this.rt.numPes; pe++) if (pe !== this.rt.self) this.rt.send(pe, pe === to ? notice : { ...notice, stayed: undefined });
        this.rt.send(DRIVER, { ...notice, stayed: undefined });
      }
    }
    if (planned) this.countDown(this.departing, record.ref.cid);
  }

  private countDown(counts: Map<CollectionId, number>, cid: CollectionId): void {
    const left = (counts.get(cid) ?? 0) - 1;
    counts.set(cid, left);
    this.maybeResume(cid);
  }

  /** With every planned move in and out done here, the elements here go on. */
  private maybeResume(cid: CollectionId): void {
    if (!this.planSeen.has(cid) || (this.arriving.get(cid) ?? 0) > 0 || (this.departing.get(cid) ?? 0) > 0) return;
    this.planSeen.delete(cid);
    this.arriving.delete(cid);
    this.departing.delete(cid);
    this.reported.delete(cid);
    const round = (this.applied.get(cid) ?? 0) + 1;
    this.applied.set(cid, round);
    const coll = this.rt.runner.collection(cid);
    // Only elements synced for this round resume. One that moved on request may have finished
    // the next round elsewhere and synced for that one already, arriving while this PE still
    // waited for this round's moves: it stays synced, for the next round.
    // The count is reset before any resumeFromSync runs: one may run at once and its element call
    // AtSync for the next round right away, which must count.
    let early = 0;
    const resuming: ElementRecord[] = [];
    for (const record of [...coll.elements.values()]) {
      if (!record.atSync) continue;
      if ((record.syncs ?? 0) > round) { early++; continue; }
      record.atSync = false;
      record.load = 0;
      resuming.push(record);
    }
    if (early === 0) this.synced.delete(cid);
    else this.synced.set(cid, early);
    for (const record of resuming) {
      if (typeof (record.chare as { resumeFromSync?: unknown }).resumeFromSync === "function") this.rt.runner.run(record, "resumeFromSync", [], undefined);
    }
    if (early > 0) this.reportSoonIfSynced(cid);
  }

  /**
   * A restored element: rounds up to its AtSync count count as done here, so its next AtSync is
   * the next round (a fresh PE would otherwise take it for an element synced rounds ahead).
   */
  restored(record: ElementRecord): void {
    if (record.ref.lb === undefined) return;
    const cid = record.ref.cid;
    this.applied.set(cid, Math.max(this.applied.get(cid) ?? 0, record.syncs ?? 0));
  }

  /** Recovery from a checkpoint taken at an AtSync barrier: the round ends here, its plan not applied; every element resumes. */
  resumeRestored(cids: CollectionId[]): number {
    let n = 0;
    for (const cid of cids) {
      for (const record of [...this.rt.runner.collection(cid).elements.values()]) {
        record.atSync = false;
        record.load = 0;
        n++;
        if (typeof (record.chare as { resumeFromSync?: unknown }).resumeFromSync === "function") this.rt.runner.run(record, "resumeFromSync", [], undefined);
      }
    }
    return n;
  }

  /** The array was destroyed: its rounds and any round in progress are forgotten. */
  forget(cid: CollectionId): void {
    for (const map of [this.arriving, this.departing, this.collecting, this.rounds, this.synced, this.reported, this.applied]) map.delete(cid);
    this.planSeen.delete(cid);
  }

  /** Root: the rounds so far of an array, to a future. */
  sendHistory(cid: CollectionId, fid: FutureId): void {
    sendToFuture(fid, this.rounds.get(cid) ?? []);
  }
}
