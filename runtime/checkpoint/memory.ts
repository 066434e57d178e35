/**
 * In-memory checkpoints on a PE: its own parts of the last two, and its buddy's (PE p's part is
 * also kept on PE p+1 mod numPes, another process where PEs are processes), so the parts of a
 * PE that is lost can be fetched from the PE after it.
 *
 * Two are kept, not one: until every PE has its part of a new checkpoint the driver still goes
 * back to the one before, so that one must outlive the new one's writing. A part's memory is
 * reused two checkpoints later: fresh memory costs a page fault per page on first touch
 * (seconds per GiB on some VMs), touched memory a plain copy. Where the buddy is a thread of
 * this process the part is a SharedArrayBuffer, and the buddy's copy is the same memory: it
 * outlives this PE's thread (a PE restarted in place, or that exited) and costs no copy.
 */
import { CharmError } from "../protocol/errors.ts";
import { DRIVER } from "../protocol/ids.ts";
import type { Runtime } from "../core/runtime.ts";
import { Future } from "../core/future.ts";

/** The runtime members in-memory checkpoints use. */
export type MemoryRuntime = Pick<Runtime, "self" | "numPes" | "transport">;

interface Part {
  stem: string;
  data: Uint8Array;
}

// How many parts of each PE are kept, newest last.
const KEPT = 2;
// Room for a part a little larger than the last (states that grow) without new memory.
const HEADROOM = 1.125;

const held = new Map<number, Part[]>();
// Memory of parts this PE restored from (charm.recover): reused before any is made new.
let spares: ArrayBufferLike[] = [];

/** Keeps PE `pe`'s part of in-memory checkpoint `stem` (the oldest of its parts here goes when there are more than two). */
export function keepPart(pe: number, stem: string, data: Uint8Array): true {
  const parts = held.get(pe) ?? [];
  parts.push({ stem, data });
  if (parts.length > KEPT) parts.shift();
  held.set(pe, parts);
  return true;
}

/** PE `pe`'s part of in-memory checkpoint `stem`, if this PE holds it; a copy of its own where the asker doesn't share this PE's memory. */
export function fetchPart(rt: MemoryRuntime, pe: number, stem: string): Uint8Array {
  const part = held.get(pe)?.find((p) => p.stem === stem);
  if (!part) throw new CharmError(`PE ${rt.self} doesn't hold PE ${pe}'s part of the last in-memory checkpoint`);
  const shared = part.data.buffer instanceof SharedArrayBuffer;
  return shared && !(rt.transport.sharesMemoryWith?.(DRIVER) ?? false) ? part.data.slice() : part.data;
}

/**
 * Memory for this PE's next part, `bytes` long: its oldest part's when two are kept and it is
 * large enough and of the right kind (that part is dropped now), else new memory with some room.
 */
export function partMemory(rt: MemoryRuntime, bytes: number, buddy: number): Uint8Array {
  const shared = buddy !== rt.self && (rt.transport.sharesMemoryWith?.(buddy) ?? false);
  const own = held.get(rt.self) ?? [];
  if (own.length >= KEPT) {
    const oldest = own.shift()!.data.buffer;
    if (oldest instanceof SharedArrayBuffer === shared && oldest.byteLength >= bytes) return new Uint8Array(oldest, 0, bytes);
  }
  const fits = spares.findIndex((b) => b instanceof SharedArrayBuffer === shared && b.byteLength >= bytes);
  if (fits >= 0) return new Uint8Array(spares.splice(fits, 1)[0]!, 0, bytes);
  const size = Math.ceil(bytes * HEADROOM);
  return new Uint8Array(shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size), 0, bytes);
}

/**
 * The parts this PE has just restored from (charm.recover: read, and held by nobody else now)
 * become memory for its next parts: the checkpoint that follows a recovery writes into touched
 * memory instead of fresh.
 */
export function adoptMemory(parts: Uint8Array[]): void {
  // Whole buffers only, each once: parts that arrived in one message may be views of one buffer.
  spares = [...new Set(parts.filter((p) => p.byteOffset === 0).map((p) => p.buffer))];
}

/**
 * The PE that keeps a copy of PE `pe`'s part: the next PE in another process (`processOf`), so
 * that one process's death doesn't take a part and its copy; the next PE where there is no other.
 */
export function buddyOf(pe: number, numPes: number, processOf?: (pe: number) => number): number {
  if (processOf) {
    for (let k = 1; k < numPes; k++) {
      const other = (pe + k) % numPes;
      if (processOf(other) !== processOf(pe)) return other;
    }
  }
  return (pe + 1) % numPes;
}

/** Keeps this PE's part here and on PE `buddy`; resolves once the buddy has it. */
export async function keepWithBuddy(rt: Runtime, stem: string, bytes: Uint8Array, buddy: number): Promise<void> {
  // A plain Uint8Array, not a Buffer: a Buffer crossing to a PE process is rebuilt through the deprecated Buffer().
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  keepPart(rt.self, stem, data);
  if (buddy === rt.self) return;
  const kept = new Future<true>();
  rt.send(buddy, { t: "ckpt", step: "keep", v: { pe: rt.self, stem, data }, fid: kept.id });
  await kept;
}
