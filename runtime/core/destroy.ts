/**
 * `charm.destroy(proxy)`: the explicit end of a collection (Charm++'s ckDestroy). Every PE drops
 * its elements and what it kept about the collection (locations, held messages, load-balancing
 * history), and remembers only the collection's id, so a call that still arrives for it fails
 * saying it was destroyed instead of waiting for a creation that will never come. Collections
 * nobody references are not reclaimed on their own: a proxy is a small value that can be kept
 * anywhere (in a chare's fields, in a message), so no endpoint can know the last one is gone.
 */
import { CharmError } from "../protocol/errors.ts";
import type { CollectionId } from "../protocol/ids.ts";
import { proxyRef } from "./proxy.ts";
import { rt } from "./current.ts";
import type { Runtime } from "./runtime.ts";
import { askEveryPe } from "./ask-pes.ts";

/** Ends a collection on every PE; resolves with the number of elements destroyed (dead PEs' aside). */
export async function destroyCollection(proxy: unknown): Promise<number> {
  const ref = proxyRef(proxy);
  if (!ref || (ref.idx && ref.kind !== "single")) throw new CharmError("charm.destroy(proxy): proxy must be a collection's proxy (from charm.array, charm.sparseArray, charm.group or charm.chare), not one element's");
  const runtime = rt();
  forgetCollection(runtime, ref.cid);
  const { answers } = await askEveryPe<number>((fid) => ({ t: "destroy", cid: ref.cid, fid }), `charm.destroy(${ref.cls})`);
  return answers.reduce((a, b) => a + b, 0);
}

/** Drops what this endpoint keeps about collection `cid`; returns how many of its elements were here. */
export function forgetCollection(runtime: Runtime, cid: CollectionId): number {
  const n = runtime.runner.destroy(cid);
  runtime.locations.delete(cid);
  runtime.census.totals.delete(cid);
  runtime.creations.forget(cid);
  runtime.balancing.forget(cid);
  return n;
}
