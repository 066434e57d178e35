/**
 * In-memory checkpoints on a PE: its own part of the last one, and its buddy's (PE p's part is
 * also kept on PE p+1 mod numPes, another process where PEs are processes), so the parts of a
 * PE that is lost can be fetched from the PE after it.
 */
import { CharmError } from "../protocol/errors.ts";
import type { Runtime } from "../core/runtime.ts";
import { Future } from "../core/future.ts";

const held = new Map<number, { stem: string; data: Uint8Array }>();

/** Keeps PE `pe`'s part of in-memory checkpoint `stem` (replacing an older one). */
export function keepPart(pe: number, stem: string, data: Uint8Array): true {
  held.set(pe, { stem, data });
  return true;
}

/** PE `pe`'s part of in-memory checkpoint `stem`, if this PE holds it. */
export function fetchPart(rt: Runtime, pe: number, stem: string): Uint8Array {
  const part = held.get(pe);
  if (!part || part.stem !== stem) throw new CharmError(`PE ${rt.self} doesn't hold PE ${pe}'s part of the last in-memory checkpoint`);
  return part.data;
}

/** The PE that keeps a copy of PE `pe`'s part. */
export function buddyOf(pe: number, numPes: number): number {
  return (pe + 1) % numPes;
}

/** Keeps this PE's part here and on its buddy; resolves once the buddy has it. */
export async function keepWithBuddy(rt: Runtime, stem: string, bytes: Uint8Array): Promise<void> {
  // A plain Uint8Array, not a Buffer: a Buffer crossing to a PE process is rebuilt through the deprecated Buffer().
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  keepPart(rt.self, stem, data);
  const buddy = buddyOf(rt.self, rt.numPes);
  if (buddy === rt.self) return;
  const kept = new Future<true>();
  rt.send(buddy, { t: "ckpt", step: "keep", v: { pe: rt.self, stem, data }, fid: kept.id });
  await kept;
}
