/**
 * The Chare base class. A chare is created by the runtime on its PE (never with `new` by the
 * user): the runtime sets the element's record just before constructing it, so `thisIndex` and
 * `thisProxy` already work inside the subclass constructor, as in Charm4Py.
 */
import { CharmError } from "../protocol/errors.ts";
import type { Index } from "../protocol/ids.ts";
import type { CollectionRef } from "../protocol/messages.ts";
import type { ChareProxy, SectionProxy } from "./proxy-types.ts";
import type { Future } from "./future.ts";
import { elementRef, makeProxy } from "./proxy.ts";
import { setChareBase } from "./entry-methods.ts";
import { rt } from "./current.ts";
import type { ReducerName } from "../collectives/reducers.ts";
import type { ReductionTarget } from "../collectives/reduction.ts";

/** What the runtime keeps about one hosted element (not part of the chare's own fields). */
export interface ElementRecord {
  readonly ref: CollectionRef;
  readonly index: Index;
  readonly key: string;
  chare: Chare | undefined;
  /** The number of this element's next reduction. */
  redNo: number;
  /** How people see it: "Hello[3]". */
  readonly label: string;
  /** This chare's `thisProxy`, made on first use. */
  proxy?: unknown;
  /** Entry methods of this element suspended at an `await` (it can't move while any are). */
  busy: number;
  /** Where it moves once no entry method is suspended (a migration asked for while busy). */
  leaving?: number;
  // The fields below are set only on elements that use them: a record per Fib chare stays small.
  /** Time (ms) spent in its entry methods since the last load balancing (arrays that opted in). */
  load?: number;
  /** How many times it has moved (newer location news wins over older). */
  moves?: number;
  /** Whether it called AtSync and waits for the balancer. */
  atSync?: boolean;
  /** It called AtSync while a move it asked for waited: it syncs where it arrives. */
  syncOnArrival?: boolean;
  /** How many times it has called AtSync: the balancing round its current sync is for. */
  syncs?: number;
  /** True after setMigratable(false): balancers and migrate() leave it where it is. */
  pinned?: boolean;
  /** Broadcasts it has run, kept after a move so none runs twice (see migration.ts). */
  seen?: Set<number>;
  /** Per section it has contributed to: the number of its next reduction over that section. */
  sectionRedNo?: Map<number, number>;
}

/** How people see an element: "Hello[3]", "Counter[PE 2]", "Main(on PE 0)". */
export function elementLabel(ref: CollectionRef, index: Index, key: string, pe: number): string {
  return ref.kind === "single" ? `${ref.cls}(on PE ${pe})` : ref.kind === "group" ? `${ref.cls}[PE ${index[0]}]` : `${ref.cls}[${key}]`;
}

/** A new element's record on PE `pe` (the runtime's bookkeeping beside the chare's own fields). */
export function newRecord(ref: CollectionRef, index: Index, key: string, pe: number): ElementRecord {
  return new HostedElement(ref, index, key, pe);
}

// A class, so the label is built when first asked for (an error, a reduction, a status table):
// a string per chare made was a share of creating Fib's, which never shows one.
class HostedElement implements ElementRecord {
  chare: Chare | undefined = undefined;
  redNo = 0;
  busy = 0;
  declare proxy?: unknown;
  declare leaving?: number;
  declare load?: number;
  declare moves?: number;
  declare atSync?: boolean;
  declare syncOnArrival?: boolean;
  declare syncs?: number;
  declare pinned?: boolean;
  declare seen?: Set<number>;
  declare sectionRedNo?: Map<number, number>;
  private text: string | undefined = undefined;

  constructor(readonly ref: CollectionRef, readonly index: Index, readonly key: string, private readonly pe: number) {
    if (ref.lb !== undefined) this.load = 0;
  }

  get label(): string {
    return (this.text ??= elementLabel(this.ref, this.index, this.key, this.pe));
  }
}

let constructing: ElementRecord | undefined;

/** Constructs a chare for `record` (the runtime's only way to make one). */
export function constructChare(cls: new (...args: any[]) => object, args: unknown[], record: ElementRecord): Chare {
  constructing = record;
  try {
    return Reflect.construct(cls, args) as Chare;
  } finally {
    constructing = undefined;
  }
}

/**
 * Makes a bare `cls` instance for `record` without running `cls`'s constructor (a migrated
 * element is rebuilt from its fields). Only Chare's constructor runs, with `cls` as new.target —
 * which is exactly how `new cls(...)` allocates, so the object gets the class's own hidden class
 * and hot code sees one shape for moved and unmoved chares. (Allocating through another
 * function with `cls` as new.target gives a map of a separate tree: polymorphic, deoptimized
 * property access in every entry method, measured at twice the time per particle step.)
 */
export function allocateChare(cls: abstract new (...args: any[]) => object, record: ElementRecord): Chare {
  constructing = record;
  try {
    return Reflect.construct(Chare, [], cls) as Chare;
  } finally {
    constructing = undefined;
  }
}

// Set by Chare's static block: the one way into #record from outside the class, not a static a subclass would inherit.
let readRecord: (chare: Chare) => ElementRecord;

/** Base class of every chare: its methods are entry methods, callable through proxies. */
export class Chare {
  // A private field: stored as fast as a plain property (~50 ns a chare made, where defineProperty
  // of a hidden symbol took ~150-200), and, as that symbol was, out of sight of console.log(this),
  // {...this} and Object.keys (what migration and checkpoints save).
  readonly #record: ElementRecord;

  constructor() {
    const record = constructing;
    if (!record) {
      throw new CharmError(`chares are created by the runtime: use charm.array(${new.target.name}, n), charm.group(${new.target.name}) or charm.chare(${new.target.name}, args), not new ${new.target.name}()`);
    }
    constructing = undefined;
    this.#record = record;
    record.chare = this;
  }

  /** This element's index: a tuple (`this.thisIndex[0]` for 1-D; `[pe]` for a group). */
  get thisIndex(): Index {
    return this.#record.index;
  }

  /** A proxy to this chare's collection (for a singleton: to the chare itself). */
  get thisProxy(): ChareProxy<this> {
    const r = this.#record;
    return (r.proxy ??= makeProxy(r.ref.kind === "single" ? elementRef(r.ref, r.index) : r.ref)) as ChareProxy<this>;
  }

  /** Contributes `data` to the collection's (or, given a section proxy, the section's) next reduction; the result goes to `target`. */
  contribute(data: unknown, reducer: ReducerName | undefined, target: ReductionTarget, section?: SectionProxy<unknown>): void {
    if (section !== undefined) rt().sections.contribute(this.#record, data, reducer, target, section);
    else rt().reductions.contribute(this.#record, data, reducer, target);
  }

  /** Charm4Py's spelling: `reduce(target, data, reducer, section?)`; with no data, an empty reduction (a barrier). */
  reduce(target: ReductionTarget, data?: unknown, reducer?: ReducerName, section?: SectionProxy<unknown>): void {
    this.contribute(data, data === undefined ? "nop" : reducer, target, section);
  }

  /** Contributes to a reduction whose result every element (or every member of `section`) receives: for sum, product, max and min, of the data's own type. */
  allreduce<D>(data: D, reducer: "sum" | "product" | "max" | "min", section?: SectionProxy<unknown>): Future<D>;
  /** Contributes to a gather every element receives: the contributions, ordered by index. */
  allreduce<D>(data: D, reducer: "gather", section?: SectionProxy<unknown>): Future<D[]>;
  /** Contributes to a reduction whose result every element (or every member of `section`) receives. */
  allreduce<T = unknown>(data?: unknown, reducer?: ReducerName, section?: SectionProxy<unknown>): Future<T>;
  allreduce<T = unknown>(data?: unknown, reducer?: ReducerName, section?: SectionProxy<unknown>): Future<T> {
    const r = data === undefined ? "nop" : reducer;
    if (section !== undefined) return rt().sections.contribute(this.#record, data, r, "all", section) as Future<T>;
    return rt().reductions.contribute(this.#record, data, r, "all") as Future<T>;
  }

  /**
   * Tells the balancer this element is ready (arrays created with `useAtSync: true`): once every
   * element has called it, loads are collected, elements may move, and every element's
   * `resumeFromSync()` is called.
   */
  AtSync(): void {
    rt().balancing.atSync(this.#record);
  }

  /** Moves this element to another PE (after its suspended entry methods, if any, finish). */
  migrate(toPe: number): void {
    rt().balancing.migrateOnRequest(this.#record, toPe);
  }

  /** Whether balancers and migrate() may move this element (arrays' elements may by default). */
  setMigratable(migratable: boolean): void {
    this.#record.pinned = !migratable;
  }

  /** Names the chare for logs: "Hello[3]". */
  toString(): string {
    return #record in this ? this.#record.label : "Chare";
  }

  static {
    readRecord = (chare) => chare.#record;
  }
}

setChareBase(Chare.prototype);

/** The runtime record of a chare (for the runtime's own modules). */
export function recordOf(chare: Chare): ElementRecord {
  return readRecord(chare);
}
