/**
 * Proxy types mapped from a chare class, so completion lists entry methods with their
 * parameters: `proxy.work(3)` sends, `proxy.work.ret(3)` is a Future of the return value,
 * `proxy.work.awaitable(3)` a Future of completion. A broadcast's `ret` gives values in index order.
 */
import type { Future } from "./future.ts";
import type { Index } from "../protocol/ids.ts";

type AnyFn = (...args: any[]) => any;

/** Members every chare inherits from Chare; they are not entry methods. */
export type ChareBaseMember =
  | "thisIndex" | "thisProxy" | "contribute" | "reduce" | "allreduce" | "toString"
  | "AtSync" | "migrate" | "setMigratable";

/** Names a proxy keeps for itself (`await` needs `then` absent; `at`, `slice`, `toJSON` are the proxy's own): a chare's methods of these names aren't reachable through it. */
export type ProxyOwnMember = "then" | "at" | "slice" | "toJSON";

/** The names of a chare class's entry methods (its own methods, not Chare's). */
export type EntryMethodNames<C> = {
  [K in keyof C]: K extends ChareBaseMember | ProxyOwnMember ? never : C[K] extends AnyFn ? K : never;
}[keyof C] & string;

/** An entry method seen through an element proxy. */
export type ElementCall<F> = F extends (...args: infer A) => infer R
  ? ((...args: A) => void) & {
      /** Calls and returns a Future of the return value. */
      ret(...args: A): Future<Awaited<R>>;
      /** Calls and returns a Future that resolves when the method has finished. */
      awaitable(...args: A): Future<void>;
    }
  : never;

/** An entry method seen through a collection proxy (a broadcast). */
export type BroadcastCall<F> = F extends (...args: infer A) => infer R
  ? ((...args: A) => void) & {
      /** Broadcasts and returns a Future of every element's return value, ordered by index. */
      ret(...args: A): Future<Awaited<R>[]>;
      /** Broadcasts and returns a Future that resolves when every element has finished. */
      awaitable(...args: A): Future<void>;
    }
  : never;

// Keys are filtered by name only, never by their value's type: a chare whose fields hold
// proxies to its own class (partner: ElementProxy<Self>) would otherwise make the mapped type
// circular. Fields therefore appear as `never` members, which can't be called.

/** A proxy to one element: each entry method is a call. */
export type ElementProxy<C> = { readonly [K in Exclude<keyof C, ChareBaseMember | ProxyOwnMember>]: ElementCall<C[K]> };

/** A proxy to a whole collection: entry methods broadcast; `at(i, j, …)` or `[i]` gives an element. */
export type CollectionProxy<C> = { readonly [K in Exclude<keyof C, ChareBaseMember | ProxyOwnMember>]: BroadcastCall<C[K]> } & {
  /** The element at an N-D index. */
  at(...index: number[]): ElementProxy<C>;
  /** 1-D sugar for `at(i)`. */
  readonly [i: number]: ElementProxy<C>;
  /** A section of a 1-D array or a group, chosen like a Python slice: `slice(0, 10, 2)`, `slice(-3)`. */
  slice(start?: number | null, stop?: number | null, step?: number | null): SectionProxy<C>;
  /** A section of an N-D array: one `[start, stop, step]` range (or a fixed index) per dimension. */
  slice(...ranges: Array<readonly [start?: number | null, stop?: number | null, step?: number | null] | number>): SectionProxy<C>;
};

/**
 * A proxy to a section: some elements of one or more collections (`charm.split`,
 * `charm.combine`, `proxy.slice`). Entry methods multicast to the members; `ret` gives their
 * values in member order (by collection, then index). The symbol member is a compile-time
 * brand (the class, for inference; a collection proxy is not a section): it never exists at run time.
 */
export type SectionProxy<C> = { readonly [K in Exclude<keyof C, ChareBaseMember | ProxyOwnMember>]: BroadcastCall<C[K]> } & {
  readonly [sectionOf]: C;
};

declare const sectionOf: unique symbol;

/** The chare class behind a collection or section proxy type (`charm.combine` types its result with it). */
export type ChareOf<P> = P extends { at: unknown } ? (P extends CollectionProxy<infer C> ? C : never) : P extends SectionProxy<infer C> ? C : never;

/**
 * The proxy a chare sees as `this.thisProxy`: its collection, or for a singleton the chare
 * itself. Typed as both, so it can be passed where either is expected (Fib passes its own
 * proxy to children as their parent).
 */
export type ChareProxy<C> = CollectionProxy<C> & ElementProxy<C>;

/** Something a proxy can be: for APIs that accept either kind. */
export type AnyProxy<C = any> = ElementProxy<C> | CollectionProxy<C>;

/** An N-D index as chares see it (`this.thisIndex`). */
export type ChareIndex = Index;
