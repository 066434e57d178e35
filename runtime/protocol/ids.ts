/** Ids that carry their routing: a future id names its home endpoint, a collection id its creator. */

/** An endpoint: a PE number (0 … numPes-1), or DRIVER for the thread that runs `main` or the cells. */
export type Endpoint = number;
/** The driver's endpoint number: it hosts no chares, but owns futures and creates collections. */
export const DRIVER: Endpoint = -1;

// Ids pack a per-endpoint counter with the endpoint, so any thread can mint them without
// coordination and a reply finds its way home without a lookup. Counters never wrap in
// practice (2^40 ids per endpoint), so an id is never reused while it may still be live.
const ENDPOINT_SLOTS = 8192;

/** A future's id; its home endpoint is recoverable with `homeOf`. */
export type FutureId = number & { readonly __brand: "FutureId" };
/** A collection's id (array, group or singleton). */
export type CollectionId = number & { readonly __brand: "CollectionId" };
/** A section's id (minted like a collection id, by the endpoint that made the section). */
export type SectionId = number & { readonly __brand: "SectionId" };

/**
 * A PE restarted in place counts its ids from incarnation × this, so ids minted by its
 * predecessor (still held elsewhere) are never minted again.
 */
export const INCARNATION_IDS = 2 ** 32;

/** Packs a counter value and an endpoint into one id. */
export function makeId<T extends number>(counter: number, home: Endpoint): T {
  return (counter * ENDPOINT_SLOTS + (home + 1)) as T;
}

/** The per-endpoint counter inside an id (for people: "future #12 of the driver"). */
export function counterOf(id: number): number {
  return Math.floor(id / ENDPOINT_SLOTS);
}

/** The endpoint that minted an id (the future's home, the collection's creator). */
export function homeOf(id: number): Endpoint {
  return (id % ENDPOINT_SLOTS) - 1;
}

/** An element index: a tuple of integers (1-D to 6-D). */
export type Index = readonly number[];

/** A string key for an index, used in maps (`"3"`, `"1,2"`). */
export function indexKey(index: Index): string {
  return index.length === 1 ? String(index[0]) : index.join(",");
}

/** Orders two indices lexicographically (gather results and broadcast values are index-ordered). */
export function compareIndex(a: Index, b: Index): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * What a reduction is over: a collection, or a section of one. As a number it keys maps and
 * travels in `contrib`/`down` messages (collection ids are positive, so a section's scope is
 * minus its id); only the functions below make or read one.
 */
export type ReductionScope = number & { readonly __brand: "ReductionScope" };

/** The scope of a collection's reductions. */
export const collectionScope = (cid: CollectionId): ReductionScope => cid as number as ReductionScope;

/** The scope of a section's reductions. */
export const sectionScope = (sid: SectionId): ReductionScope => -sid as ReductionScope;

/** What a scope is over. */
export type ScopeTarget = { kind: "collection"; cid: CollectionId } | { kind: "section"; sid: SectionId };

/** Reads a scope back: the collection or the section it is over. */
export function scopeTarget(scope: ReductionScope): ScopeTarget {
  return scope < 0 ? { kind: "section", sid: -scope as SectionId } : { kind: "collection", cid: scope as number as CollectionId };
}

/** The replies to one broadcast, gathered like a reduction: keyed by the future they complete. */
export type ReplyKey = string & { readonly __brand: "ReplyKey" };

/** Which reduction of a scope: an element's n-th contribution, or the replies to one broadcast. */
export type ReductionKey = number | ReplyKey;

/** The key of the replies to a broadcast answering future `fid`. */
export const replyKey = (fid: FutureId): ReplyKey => `f${fid}` as ReplyKey;

/** Whether a key is a broadcast's replies (not an element's numbered contribution). */
export const isReplyKey = (key: ReductionKey): key is ReplyKey => typeof key === "string";
