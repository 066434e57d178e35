/**
 * Sparse arrays: how many elements there are is only known once insertion is over.
 * `doneInserting` counts every PE's elements and tells all PEs the total, so a reduction or a
 * broadcast reply over a sparse array knows when every element has answered.
 */
import type { CollectionId, Endpoint } from "../protocol/ids.ts";
import type { Runtime } from "./runtime.ts";

interface Count {
  readonly counts: Map<Endpoint, number>;
  resolve(): void;
}

/** What the census uses of its runtime: sending, the PE count, this endpoint and its hosted elements. */
export type CensusRuntime = Pick<Runtime, "runner" | "numPes" | "self" | "send">;

/** Member lists of sparse arrays, and the census that makes them. */
export class Census {
  /** cid → number of elements (set by a finished census). */
  readonly totals = new Map<CollectionId, number>();
  private readonly running = new Map<CollectionId, Count>();

  constructor(private readonly rt: CensusRuntime) {}

  /** Counts elements on every PE and publishes the total; resolves when every PE knows it. */
  run(cid: CollectionId): Promise<void> {
    return new Promise((resolve) => {
      this.running.set(cid, { counts: new Map(), resolve });
      for (let pe = 0; pe < this.rt.numPes; pe++) this.rt.send(pe, { t: "census", cid, from: this.rt.self });
    });
  }

  /** A PE answers with its element count (after every insertion it has received). */
  answer(cid: CollectionId, from: Endpoint): void {
    this.rt.send(from, { t: "censusCount", cid, pe: this.rt.self, n: this.rt.runner.collection(cid).elements.size });
  }

  /** The census collects one PE's count; with all in, it publishes the total. */
  count(cid: CollectionId, pe: Endpoint, n: number): void {
    const run = this.running.get(cid);
    if (!run) return;
    run.counts.set(pe, n);
    if (run.counts.size < this.rt.numPes) return;
    this.running.delete(cid);
    let total = 0;
    for (const c of run.counts.values()) total += c;
    this.totals.set(cid, total);
    for (let p = 0; p < this.rt.numPes; p++) this.rt.send(p, { t: "members", cid, n: total });
    run.resolve();
  }
}
