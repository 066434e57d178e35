/** The arguments a broadcast or a creation hands each of several elements: shared where they are immutable, copied where not. */
import { decodeArgs } from "../protocol/codec.ts";

/**
 * Arguments for one of several elements: each gets its own copy, so no two chares alias one
 * object. The received copy is decoded in place, so it is used last, after the clones.
 */
export function argsFor(a: unknown[], r: 1 | undefined, last: boolean): unknown[] {
  return decodeArgs(last ? a : structuredClone(a), r);
}

/**
 * Decoded arguments every element can share, or undefined when each needs its own copy.
 * Primitives, proxies (sections too), futures and bound methods are immutable handles, so
 * cloning them per element (a structuredClone each, ~1 µs) buys nothing; only mutable data is
 * copied. (A section proxy argument copied per member made a 500-member multicast 3× slower.)
 */
export function sharedArgs(a: unknown[], r: 1 | undefined): unknown[] | undefined {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v === null || typeof v !== "object") continue;
    const tag = (v as { $charm?: unknown }).$charm;
    if (tag !== "proxy" && tag !== "future" && tag !== "method" && tag !== "section" && tag !== "sectionMethod") return undefined;
  }
  return decodeArgs(a, r);
}
