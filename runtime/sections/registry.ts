/**
 * The sections every endpoint knows. A section's members are sent to every endpoint once, when
 * it is made (a "section" message); after that a section travels as a small SectionRef and a
 * multicast names only its id. Messages and calls that arrive before the definition (it can come
 * from another PE than the proxy did, with no order between them) wait for it here.
 */
import { counterOf, indexKey, type CollectionId, type SectionId } from "../protocol/ids.ts";
import type { CollectionRef, Message, SectionDef, SectionRef } from "../protocol/messages.ts";
import type { Runtime } from "../core/runtime.ts";
import type { ElementRecord } from "../core/chare.ts";
import type { Future } from "../core/future.ts";
import type { ReducerName } from "../collectives/reducers.ts";
import type { ReductionTarget } from "../collectives/reduction.ts";
import { contributeToSection } from "./contribute.ts";

/** One section as an endpoint knows it: its members, in member order, and each one's position. */
export class Section {
  readonly ref: SectionRef;
  readonly refs: CollectionRef[];
  /** Per collection (same order as refs), its members' indices in index order. */
  readonly members: SectionDef["members"];
  /** collection → element key → position in member order (gather and `ret` order). */
  private readonly positions = new Map<CollectionId, Map<string, number>>();
  /** Per collection, the PEs holding members, while none of the collection's elements has moved. */
  private placement: number[][] | undefined;

  constructor(def: SectionDef) {
    this.ref = { sid: def.sid, cls: def.cls, n: def.n };
    this.refs = def.refs;
    this.members = def.members;
    let position = 0;
    def.refs.forEach((ref, k) => {
      const keys = new Map<string, number>();
      for (const idx of def.members[k]!) keys.set(indexKey(idx), position++);
      this.positions.set(ref.cid, keys);
    });
  }

  get sid(): SectionId {
    return this.ref.sid;
  }

  get size(): number {
    return this.ref.n;
  }

  /** An element's position in member order, or undefined when it is not a member. */
  position(record: ElementRecord): number | undefined {
    return this.positions.get(record.ref.cid)?.get(record.key);
  }

  /** The member keys of one collection (undefined: none of its elements is a member). */
  keysIn(cid: CollectionId): ReadonlyMap<string, number> | undefined {
    return this.positions.get(cid);
  }

  /** The PE that completes this section's reductions and replies (spread over PEs by id). */
  root(numPes: number): number {
    return counterOf(this.sid) % numPes;
  }

  /** Per collection, the PEs that hold members now (cached while no element of it has moved). */
  pesPerCollection(rt: Runtime): number[][] {
    const moved = this.refs.some((ref) => rt.locations.has(ref.cid));
    if (this.placement && !moved) return this.placement;
    const pes = this.refs.map((ref, k) => [...new Set(this.members[k]!.map((idx) => rt.locate(ref, idx)))].sort((a, b) => a - b));
    if (!moved) this.placement = pes;
    return pes;
  }
}

/** The sections this endpoint knows, and what waits for the ones it doesn't yet. */
export class Sections {
  private readonly known = new Map<SectionId, Section>();
  private readonly waiting = new Map<SectionId, Array<() => void>>();

  constructor(private readonly rt: Runtime) {}

  /** The section with this id, if its definition has reached this endpoint. */
  get(sid: SectionId): Section | undefined {
    return this.known.get(sid);
  }

  /** A definition made here or arriving: the section is known from now on; what waited for it runs. */
  define(def: SectionDef): Section {
    const section = new Section(def);
    this.known.set(def.sid, section);
    const waiting = this.waiting.get(def.sid);
    this.waiting.delete(def.sid);
    if (waiting) for (const run of waiting) run();
    return section;
  }

  /** Every section known here (what a checkpoint saves). */
  all(): Section[] {
    return [...this.known.values()];
  }

  /** Runs `run` with the section now if it is known here, else once its definition arrives (in call order). */
  whenKnown(sid: SectionId, run: (section: Section) => void): void {
    const section = this.known.get(sid);
    if (section) { run(section); return; }
    const list = this.waiting.get(sid);
    const go = (): void => run(this.known.get(sid)!);
    if (list) list.push(go); else this.waiting.set(sid, [go]);
  }

  /** An element's contribution to `section`'s next reduction (a member's Future for an allreduce). */
  contribute(record: ElementRecord, data: unknown, reducer: ReducerName | undefined, target: ReductionTarget | "all", section: unknown): Future<unknown> | undefined {
    return contributeToSection(record, data, reducer, target, section);
  }

  /** Holds a message for a section not known here yet; it is handled again once it is. */
  hold(sid: SectionId, msg: Message): void {
    this.whenKnown(sid, () => this.rt.scheduler.redispatch(msg));
  }
}

/** The number of an element's next reduction over a section (counted per section, travels when it migrates). */
export function sectionReductionNumber(record: ElementRecord, sid: SectionId): number {
  return record.sectionRedNo?.get(sid) ?? 0;
}

/** Takes the number of an element's next reduction over a section and advances it. */
export function nextSectionReduction(record: ElementRecord, sid: SectionId): number {
  const next = sectionReductionNumber(record, sid);
  (record.sectionRedNo ??= new Map()).set(sid, next + 1);
  return next;
}
