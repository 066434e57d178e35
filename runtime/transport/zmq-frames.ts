/**
 * How one batch of messages (a WireBatch) travels as a ZeroMQ multipart message between
 * processes. The first frame holds everything small: the sender's endpoint, the float64 words
 * as raw bytes, and the extra objects in V8's serialization format (structured-clone
 * semantics, as MessagePorts use). Large buffers follow as frames of their own, so their
 * bytes are never re-encoded (the serialized extras refer to them by number). Every frame
 * costs zeromq.js several µs to send, so the common message is one frame.
 *
 *   frame 0   int32 sender endpoint, int32 word count, int32 extras byte count, int32 grant,
 *             then the words (float64, little-endian: hosts in a run are x86-64 or arm64),
 *             then v8.serialize(extras) when there are extras
 *   frame 1…  out-of-band ArrayBuffers, numbered 0… in the serialized extras
 *
 * The grant is flow control (credit.ts): bytes the sender has handled from the recipient since
 * its last grant, written just before the frames leave. A frame with no words and no extras is
 * a grant alone. A header whose word count is negative starts a large batch's pieces instead
 * (zmq-bulk.ts): a batch of 8 MiB or more crosses as pieces of 2 MiB, so that no single message
 * holds ZeroMQ's I/O thread (which encrypts every stream) for seconds.
 */
import { Deserializer, Serializer } from "node:v8";
import type { Endpoint } from "../protocol/ids.ts";
import type { WireBatch } from "./wire.ts";

// Below this size a buffer is cheaper inline in the serialized extras than as its own frame.
const OUT_OF_BAND_BYTES = 8 * 1024;
// Four int32s: keeps the words that follow 8-byte aligned.
const HEADER_BYTES = 16;
const NO_EXTRAS: unknown[] = [];
const EMPTY = new Uint8Array(0);

/** Encodes a batch for `sender`; buffers in `transfer` that are large go as their own frames. */
export function encodeFrames(sender: Endpoint, batch: WireBatch, transfer: ArrayBuffer[] | undefined): Uint8Array[] {
  let extras: Uint8Array | undefined;
  const frames: Uint8Array[] = [EMPTY];
  if (batch.x.length > 0) {
    const ser = new Serializer();
    ser.writeHeader();
    if (transfer) {
      for (const buffer of transfer) {
        if (buffer.byteLength < OUT_OF_BAND_BYTES) continue;
        ser.transferArrayBuffer(frames.length - 1, buffer);
        frames.push(new Uint8Array(buffer));
      }
    }
    ser.writeValue(batch.x);
    extras = ser.releaseBuffer();
  }
  const wordBytes = batch.w.byteLength;
  const first = new Uint8Array(HEADER_BYTES + wordBytes + (extras ? extras.length : 0));
  const head = new Int32Array(first.buffer, 0, 4);
  head[0] = sender;
  head[1] = batch.w.length;
  head[2] = extras ? extras.length : 0;
  new Float64Array(first.buffer, HEADER_BYTES, batch.w.length).set(batch.w);
  if (extras) first.set(extras, HEADER_BYTES + wordBytes);
  frames[0] = first;
  return frames;
}

/** The most one frame can grant (an int32). */
export const MAX_GRANT = 0x7fffffff;

/** Writes the grant into a batch's first frame (made by `encodeFrames`) just before it leaves. */
export function writeGrant(first: Uint8Array, grant: number): void {
  new Int32Array(first.buffer, first.byteOffset, 4)[3] = grant;
}

/** A grant alone: a header with no words and no extras. */
export function grantFrame(sender: Endpoint, grant: number): Uint8Array {
  const first = new Uint8Array(HEADER_BYTES);
  const head = new Int32Array(first.buffer);
  head[0] = sender;
  head[3] = grant;
  return first;
}

/** Bytes a batch's frames take (what flow control counts). */
export function frameBytes(frames: ArrayLike<{ byteLength: number }>): number {
  let n = 0;
  for (let i = 0; i < frames.length; i++) n += frames[i]!.byteLength;
  return n;
}

/** A decoded multipart message: who sent it, its batch (undefined for a grant alone), and its grant. */
export interface ReceivedBatch {
  sender: Endpoint;
  batch: WireBatch | undefined;
  grant: number;
}

/** Header size of every message: the sender, then the word count (negative: a large batch's piece, zmq-bulk.ts). */
export const FRAME_HEADER_BYTES = HEADER_BYTES;

/** The sender and the word count of a message, read before deciding how to decode it. */
export function peekHeader(frames: Buffer[]): { sender: Endpoint; count: number } {
  const first = frames[0];
  if (!first || first.length < HEADER_BYTES) throw new Error(`malformed transport message (${first?.length ?? 0} bytes)`);
  return { sender: first.readInt32LE(0), count: first.readInt32LE(4) };
}

/** Decodes the frames made by `encodeFrames`; throws on a malformed message. */
export function decodeFrames(frames: Buffer[]): ReceivedBatch {
  const first = frames[0];
  if (!first || first.length < HEADER_BYTES) throw new Error(`malformed transport message (${first?.length ?? 0} bytes)`);
  const sender = first.readInt32LE(0);
  const count = first.readInt32LE(4);
  const extraBytes = first.readInt32LE(8);
  const grant = first.readInt32LE(12);
  const wordEnd = HEADER_BYTES + count * 8;
  if (count < 0 || extraBytes < 0 || grant < 0 || wordEnd + extraBytes !== first.length) throw new Error(`malformed transport message (${count} words, ${extraBytes} extra bytes in ${first.length}, grant ${grant})`);
  if (count === 0 && extraBytes === 0) return { sender, batch: undefined, grant };
  const w = wordsOf(first, count);
  if (extraBytes === 0) return { sender, batch: { w, x: NO_EXTRAS }, grant };
  const des = new Deserializer(first.subarray(wordEnd));
  des.readHeader();
  for (let i = 1; i < frames.length; i++) des.transferArrayBuffer(i - 1, ownBuffer(frames[i]!));
  return { sender, batch: { w, x: des.readValue() as unknown[] }, grant };
}

// zeromq.js hands each frame over in a buffer of its own (offset 0); copy the words only when
// they would be misaligned for a Float64Array.
function wordsOf(frame: Buffer, count: number): Float64Array {
  const at = frame.byteOffset + HEADER_BYTES;
  if (at % 8 === 0) return new Float64Array(frame.buffer, at, count);
  return new Float64Array(frame.buffer.slice(at, at + count * 8));
}

function ownBuffer(frame: Buffer): ArrayBuffer {
  const b = frame.buffer as ArrayBuffer;
  if (frame.byteOffset === 0 && b.byteLength === frame.length) return b;
  return b.slice(frame.byteOffset, frame.byteOffset + frame.length);
}
