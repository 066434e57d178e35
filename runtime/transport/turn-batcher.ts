/**
 * Per-turn batching, the same for every transport: messages written for one destination during
 * a turn of the event loop leave together at its end (one postMessage, one ZeroMQ send), in the
 * order written. A big payload or a big batch leaves at once instead, so the receiver works on
 * it while the sender goes on, and batch buffers stay small enough for malloc to recycle (fresh
 * pages cost ~25 µs each on first touch on this VM).
 */
import type { Message } from "../protocol/messages.ts";
import type { WireWriter } from "./wire.ts";
import { deferMicrotask } from "./microtask.ts";

/** What a transport keeps per destination: the batch being written and the buffers it moves. */
export interface Outbox {
  readonly writer: WireWriter;
  transfer: ArrayBuffer[] | undefined;
}

/** Transferred buffers of at least this many bytes make their batch leave at once. */
export const EAGER_BYTES = 256 * 1024;
/** A batch of this many float64 words leaves at once too. */
export const EAGER_WORDS = 8192;
/**
 * So does a batch of this many messages written as objects (arguments that aren't primitives):
 * their size is known only once encoded, and this keeps a batch of typed arrays, say, from
 * growing past what flow control lets into ZeroMQ at once (~0.5 MiB of 1 KiB arrays).
 */
export const EAGER_EXTRAS = 512;

/** Sums buffer sizes. */
export function bytesOf(buffers: readonly ArrayBuffer[]): number {
  let n = 0;
  for (let i = 0; i < buffers.length; i++) n += buffers[i]!.byteLength;
  return n;
}

/** Collects one turn's messages per outbox and hands each outbox to `post` at the end of the turn (or early). */
export class TurnBatcher<B extends Outbox> {
  private readonly dirty: B[] = [];
  private scheduled = false;
  // Captured before any user code runs, so a cell or chare that patches Promise or
  // queueMicrotask can't stall messaging (see microtask.ts).
  private readonly defer = deferMicrotask();
  private readonly flushNow = (): void => this.flush();

  /** `post` takes the outbox's batch (if any is left) and sends it. */
  constructor(private readonly post: (box: B) => void) {}

  /** Adds a message to `box`'s batch; `transfer` lists buffers nobody else holds. */
  write(box: B, msg: Message, transfer: ArrayBuffer[] | undefined, cause: number): void {
    // Listed once per batch; an outbox posted early and written again may be listed twice, and
    // its second post finds nothing to take.
    if (box.writer.empty) this.dirty.push(box);
    box.writer.write(msg, cause);
    if (transfer) {
      (box.transfer ??= []).push(...transfer);
      if (bytesOf(transfer) >= EAGER_BYTES) { this.post(box); return; }
    }
    if (box.writer.size >= EAGER_WORDS || box.writer.extraCount >= EAGER_EXTRAS) { this.post(box); return; }
    if (!this.scheduled) {
      this.scheduled = true;
      this.defer(this.flushNow);
    }
  }

  /** Posts every outbox written this turn now instead of at its end. */
  flush(): void {
    this.scheduled = false;
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) this.post(dirty[i]!);
    dirty.length = 0;
  }
}
