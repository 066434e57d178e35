/**
 * How one batch of messages (a WireBatch) travels as a ZeroMQ multipart message between
 * processes: the sender's endpoint, the float64 words as raw bytes, the extra objects in V8's
 * serialization format (structured-clone semantics, as MessagePorts use), and large buffers as
 * frames of their own so their bytes are never re-encoded (V8 writes a reference to them).
 *
 *   frame 0   header: int32 sender endpoint, int32 flags (bit 0: an extras frame follows)
 *   frame 1   the words (float64, little-endian: every host in a run is x86-64 or arm64)
 *   frame 2   v8.serialize(extras), present when flag bit 0 is set
 *   frame 3…  out-of-band ArrayBuffers, numbered 0… in the serialized extras
 */
import { Deserializer, Serializer } from "node:v8";
import type { Endpoint } from "../protocol/ids.ts";
import type { WireBatch } from "./wire.ts";

// Below this size a buffer is cheaper inline in the serialized extras than as its own frame.
const OUT_OF_BAND_BYTES = 8 * 1024;
const HAS_EXTRAS = 1;
const NO_EXTRAS: unknown[] = [];
const EMPTY = new Uint8Array(0);

/** Encodes a batch for `sender`; buffers in `transfer` that are large go as their own frames. */
export function encodeFrames(sender: Endpoint, batch: WireBatch, transfer: ArrayBuffer[] | undefined): Uint8Array[] {
  const header = new Int32Array([sender, batch.x.length > 0 ? HAS_EXTRAS : 0]);
  const words = new Uint8Array(batch.w.buffer, batch.w.byteOffset, batch.w.byteLength);
  if (batch.x.length === 0) return [new Uint8Array(header.buffer), words];
  const ser = new Serializer();
  ser.writeHeader();
  const frames: Uint8Array[] = [new Uint8Array(header.buffer), words, EMPTY];
  if (transfer) {
    for (const buffer of transfer) {
      if (buffer.byteLength < OUT_OF_BAND_BYTES) continue;
      ser.transferArrayBuffer(frames.length - 3, buffer);
      frames.push(new Uint8Array(buffer));
    }
  }
  ser.writeValue(batch.x);
  frames[2] = ser.releaseBuffer();
  return frames;
}

/** A decoded multipart message: who sent it and its batch. */
export interface ReceivedBatch {
  sender: Endpoint;
  batch: WireBatch;
}

/** Decodes the frames made by `encodeFrames`; throws on a malformed message. */
export function decodeFrames(frames: Buffer[]): ReceivedBatch {
  const head = frames[0];
  if (!head || head.length !== 8 || frames.length < 2) throw new Error(`malformed transport message (${frames.length} frames)`);
  const sender = head.readInt32LE(0);
  const flags = head.readInt32LE(4);
  const w = wordsOf(frames[1]!);
  if ((flags & HAS_EXTRAS) === 0) return { sender, batch: { w, x: NO_EXTRAS } };
  const des = new Deserializer(frames[2]!);
  des.readHeader();
  for (let i = 3; i < frames.length; i++) des.transferArrayBuffer(i - 3, ownBuffer(frames[i]!));
  return { sender, batch: { w, x: des.readValue() as unknown[] } };
}

// zeromq.js hands each frame over in a buffer of its own (offset 0); copy only when it doesn't,
// or when the words would be misaligned for a Float64Array.
function wordsOf(frame: Buffer): Float64Array {
  if (frame.byteOffset % 8 === 0) return new Float64Array(frame.buffer, frame.byteOffset, frame.length / 8);
  return new Float64Array(ownBuffer(frame));
}

function ownBuffer(frame: Buffer): ArrayBuffer {
  const b = frame.buffer as ArrayBuffer;
  if (frame.byteOffset === 0 && b.byteLength === frame.length) return b;
  return b.slice(frame.byteOffset, frame.byteOffset + frame.length);
}
