/** The creator's side of collection creation: `charm.awaitCreation` resolves when every PE built its share. */
import type { CollectionId } from "../protocol/ids.ts";
import type { CollectionRef, ErrorData } from "../protocol/messages.ts";
import { RemoteError } from "../protocol/errors.ts";

interface Pending {
  remaining: number;
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

  /** Starts tracking a creation that `pes` PEs will acknowledge. */
  expect(cid: CollectionId, pes: number, ref?: CollectionRef): void {
    if (ref) this.refs.push(ref);
    let resolve!: (n: number) => void;
    let reject!: (e: Error) => void;
    const done = new Promise<number>((res, rej) => { resolve = res; reject = rej; });
    done.catch(() => undefined); // delivered to whoever awaits creation; never an unhandled rejection
    this.byId.set(cid, { remaining: pes, elements: 0, error: undefined, done, resolve, reject });
  }

  /** One PE built `n` elements (or failed with `e`). */
  created(cid: CollectionId, n: number, e?: ErrorData): void {
    const p = this.byId.get(cid);
    if (!p) return;
    p.elements += n;
    p.error ??= e;
    if (e) return; // the PE sends its count again after the failure report; wait for that
    if (--p.remaining > 0) return;
    if (p.error) p.reject(new RemoteError(p.error));
    else p.resolve(p.elements);
  }

  /** The collection was destroyed: nothing about it is kept. */
  forget(cid: CollectionId): void {
    this.byId.delete(cid);
    const at = this.refs.findIndex((r) => r.cid === cid);
    if (at >= 0) this.refs.splice(at, 1);
  }

  /** A promise of the number of elements created, or undefined if this endpoint didn't track it. */
  whenCreated(cid: CollectionId): Promise<number> | undefined {
    return this.byId.get(cid)?.done;
  }
}
