/** The creator's side of collection creation: `charm.awaitCreation` resolves when every PE built its share. */
import type { CollectionId, Endpoint } from "../protocol/ids.ts";
import type { CollectionRef, ErrorData } from "../protocol/messages.ts";
import { PeLostError, RemoteError } from "../protocol/errors.ts";

interface Pending {
  /** "Sim (array 8)": what is being created, for errors. */
  readonly what: string;
  /** PEs that haven't acknowledged their share yet. */
  readonly owed: Set<Endpoint>;
  /** charm.awaitCreation asked for it: its rejection is heard. */
  awaited: boolean;
  settled: boolean;
  elements: number;
  error: ErrorData | undefined;
  readonly done: Promise<number>;
  resolve(n: number): void;
  reject(e: Error): void;
}

/** Tracks the acknowledgements of collections created from this endpoint. */
export class CreationTracker {
  private readonly byId = new Map<CollectionId, Pending>();
  private readonly refs: CollectionRef[] = [];

  /** Collections created from this endpoint (what a restart loses), in order. */
  collections(): readonly CollectionRef[] {
    return this.refs;
  }

  /** Starts tracking the creation of `ref`, which PEs `pes` will acknowledge. */
  expect(ref: CollectionRef, pes: readonly Endpoint[]): void {
    this.refs.push(ref);
    let resolve!: (n: number) => void;
    let reject!: (e: Error) => void;
    const done = new Promise<number>((res, rej) => { resolve = res; reject = rej; });
    done.catch(() => undefined); // delivered to whoever awaits creation; never an unhandled rejection
    const what = `${ref.cls} (${ref.kind === "single" ? "a chare" : ref.kind})`;
    this.byId.set(ref.cid, { what, owed: new Set(pes), awaited: false, settled: false, elements: 0, error: undefined, done, resolve, reject });
  }

  /** PE `pe` built `n` elements (or failed with `e`). */
  created(cid: CollectionId, pe: Endpoint, n: number, e?: ErrorData): void {
    const p = this.byId.get(cid);
    if (!p || p.settled) return;
    p.elements += n;
    p.error ??= e;
    if (e) return; // the PE sends its count again after the failure report; wait for that
    p.owed.delete(pe);
    if (p.owed.size > 0) return;
    p.settled = true;
    if (p.error) p.reject(new RemoteError(p.error));
    else p.resolve(p.elements);
  }

  /**
   * PE `pe` died: creations still waiting for it reject with PeLostError instead of waiting for
   * good. Returns how many of those a charm.awaitCreation was waiting on (the program heard of it).
   */
  peLost(pe: Endpoint, why: string): number {
    let heard = 0;
    for (const p of this.byId.values()) {
      if (p.settled || !p.owed.has(pe)) continue;
      p.settled = true;
      p.reject(new PeLostError(pe, why, `creating ${p.what} needed it, and it had not built its share.`));
      if (p.awaited) heard++;
    }
    return heard;
  }

  /** The collection was destroyed: nothing about it is kept. */
  forget(cid: CollectionId): void {
    this.byId.delete(cid);
    const at = this.refs.findIndex((r) => r.cid === cid);
    if (at >= 0) this.refs.splice(at, 1);
  }

  /** A promise of the number of elements created, or undefined if this endpoint didn't track it. */
  whenCreated(cid: CollectionId): Promise<number> | undefined {
    const p = this.byId.get(cid);
    if (p) p.awaited = true;
    return p?.done;
  }
}
