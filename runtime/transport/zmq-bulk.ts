/**
 * Large batches between processes, in pieces. ZeroMQ's I/O thread encrypts (CURVE) and decrypts
 * each message whole: one of 160 MB held it for 2.5 s here, while no other stream of that process
 * moved and ZeroMQ's own heartbeats went unanswered, so healthy PEs were taken for dead. A batch
 * of BULK_BYTES or more therefore crosses as a start (the sizes of its frames) and then pieces of
 * at most PIECE_BYTES, each a message of its own; the recipient puts the frames back together and
 * takes the batch as if it had come whole. A stream is FIFO, so a batch's pieces follow its start
 * in order; other senders' messages interleave with them at the recipient.
 *
 *   start   int32 sender, int32 -1, int32 frame count, int32 0, then a float64 size per frame
 *   piece   int32 sender, int32 -2, int32 0, int32 0; a second frame holds the next bytes
 */
import type { Endpoint } from "../protocol/ids.ts";
import { FRAME_HEADER_BYTES } from "./zmq-frames.ts";

/** A batch this large crosses in pieces. */
export const BULK_BYTES = 8 * 1024 * 1024;
/** The most bytes one piece carries (~35 ms of CURVE here). */
export const PIECE_BYTES = 2 * 1024 * 1024;

/** The word counts that mark a start and a piece (a batch's own count is never negative). */
export const START = -1, PIECE = -2;

// A batch has a frame for its words and one per large buffer it moves; a start naming more is refused.
const MOST_FRAMES = 1 << 16;
// Node's largest Buffer: a frame can't be bigger.
const MOST_FRAME_BYTES = 2 ** 32;

/** The messages that carry `frames` (a batch of BULK_BYTES or more) from `sender`: its start, then its pieces. */
export function bulkMessages(sender: Endpoint, frames: Uint8Array[]): Array<Uint8Array | Uint8Array[]> {
  const start = new Uint8Array(FRAME_HEADER_BYTES + 8 * frames.length);
  const head = new Int32Array(start.buffer, 0, 4);
  head[0] = sender;
  head[1] = START;
  head[2] = frames.length;
  const sizes = new Float64Array(start.buffer, FRAME_HEADER_BYTES, frames.length);
  frames.forEach((f, i) => { sizes[i] = f.byteLength; });
  const pieceHead = new Uint8Array(FRAME_HEADER_BYTES);
  const words = new Int32Array(pieceHead.buffer);
  words[0] = sender;
  words[1] = PIECE;
  const out: Array<Uint8Array | Uint8Array[]> = [start];
  for (const f of frames) {
    for (let at = 0; at < f.byteLength; at += PIECE_BYTES) {
      // Views, not copies: the frames stay untouched until their last piece has left.
      out.push([pieceHead, new Uint8Array(f.buffer, f.byteOffset + at, Math.min(PIECE_BYTES, f.byteLength - at))]);
    }
  }
  return out;
}

/** The frame sizes a start announces; throws on a malformed start. */
export function readStart(frames: Buffer[]): number[] {
  const first = frames[0]!;
  const count = first.readInt32LE(8);
  if (frames.length !== 1 || count < 1 || count > MOST_FRAMES || first.length !== FRAME_HEADER_BYTES + 8 * count) {
    throw new Error(`malformed start of a large batch (${first.length} bytes, ${count} frames)`);
  }
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    const size = first.readDoubleLE(FRAME_HEADER_BYTES + 8 * i);
    if (!Number.isInteger(size) || size < 0 || size > MOST_FRAME_BYTES) throw new Error(`malformed start of a large batch (a frame of ${size} bytes)`);
    sizes.push(size);
  }
  if (sizes[0]! < FRAME_HEADER_BYTES) throw new Error(`malformed start of a large batch (a first frame of ${sizes[0]} bytes)`);
  return sizes;
}

/** The bytes a piece carries; throws on a malformed piece. */
export function readPiece(frames: Buffer[]): Buffer {
  if (frames.length !== 2 || frames[0]!.length !== FRAME_HEADER_BYTES || frames[1]!.length === 0) throw new Error(`malformed piece of a large batch (${frames.length} frames)`);
  return frames[1]!;
}

/** One sender's large batch being put back together from its pieces. */
export class BulkAssembly {
  /** The batch's size in bytes. */
  readonly bytes: number;
  private readonly frames: Buffer[] = [];
  // The frame being filled, and how much of it is.
  private current: Buffer | undefined;
  private at = 0;

  constructor(private readonly sizes: number[]) {
    this.bytes = sizes.reduce((a, b) => a + b, 0);
    this.skipEmpty();
  }

  /** Adds the next piece; the batch's frames once it is whole, else undefined. Throws when a piece runs past its frame. */
  add(piece: Buffer): Buffer[] | undefined {
    const i = this.frames.length;
    const size = this.sizes[i];
    if (size === undefined || this.at + piece.length > size) throw new Error(`a piece of a large batch runs past its frame (${piece.length} bytes at ${this.at} of frame ${i})`);
    if (this.at === 0 && piece.length === size && piece.byteOffset === 0 && piece.buffer.byteLength === size) {
      this.frames.push(piece); // a frame in one piece, in memory of its own (as ZeroMQ hands frames over): no copy
    } else {
      const into = (this.at === 0 ? (this.current = Buffer.allocUnsafeSlow(size)) : this.current!);
      piece.copy(into, this.at);
      this.at += piece.length;
      if (this.at < size) return undefined;
      this.frames.push(into);
      this.current = undefined;
      this.at = 0;
    }
    this.skipEmpty();
    return this.frames.length === this.sizes.length ? this.frames : undefined;
  }

  // A frame of no bytes (an empty buffer moved out of band) has no piece.
  private skipEmpty(): void {
    while (this.frames.length < this.sizes.length && this.sizes[this.frames.length] === 0) this.frames.push(Buffer.alloc(0));
  }
}
