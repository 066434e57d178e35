/**
 * Large typed arrays skip the serializer: a checkpoint writes their bytes straight from the
 * chare's memory (a writev of the array itself), and leaves a small marker in the serialized
 * state. The serializer copied every byte into its buffer, growing it by doubling, which cost
 * more than the write itself for 1 MiB elements.
 */
import { CharmError } from "../protocol/errors.ts";

/** Below this an array stays inside the frame (serialized, or inline in plain.ts): a segment of its own costs more. */
export const RAW_MIN_BYTES = 1024;

/** The typed array classes saved as raw bytes (large ones here, small ones inline by plain.ts), by name. */
export const CTORS = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
} satisfies Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView>;
/** A typed array class's name, as saved. */
export type CtorName = keyof typeof CTORS;

/** In the saved state, where a large typed array was (its segment number in the frame, its type). */
interface Marker {
  $charm: "raw";
  k: number;
  t: CtorName;
}

/**
 * Replaces the large typed arrays inside an encoded state (fresh containers: the codec copied
 * them) by markers, in place; the arrays are appended to `segments`. One array met twice is one
 * segment, so sharing survives.
 */
export function extractBinary(value: unknown, segments: ArrayBufferView[], seen = new Map<object, Marker>(), walked = new Set<object>()): unknown {
  if (value === null || typeof value !== "object") return value;
  if (ArrayBuffer.isView(value)) {
    const t = value.constructor.name as CtorName;
    if (value.byteLength < RAW_MIN_BYTES || CTORS[t] !== value.constructor) return value;
    let marker = seen.get(value);
    if (!marker) {
      marker = { $charm: "raw", k: segments.length, t };
      segments.push(value);
      seen.set(value, marker);
    }
    return marker;
  }
  // The codec keeps shared and circular references: each container is walked once.
  if (walked.has(value)) return value;
  walked.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = extractBinary(value[i], segments, seen, walked);
  } else if (value instanceof Map) {
    for (const [k, v] of value) value.set(k, extractBinary(v, segments, seen, walked));
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const key of Object.keys(value)) (value as Record<string, unknown>)[key] = extractBinary((value as Record<string, unknown>)[key], segments, seen, walked);
  }
  return value;
}

/** Puts the typed arrays back where their markers are, in place: each over its segment, whose memory must be its own. */
export function restoreBinary(value: unknown, segments: Uint8Array[], made = new Map<number, ArrayBufferView>(), walked = new Set<object>()): unknown {
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return value;
  if (walked.has(value)) return value; // a shared or circular reference, walked already
  if (Array.isArray(value)) {
    walked.add(value);
    for (let i = 0; i < value.length; i++) value[i] = restoreBinary(value[i], segments, made, walked);
  } else if (value instanceof Map) {
    walked.add(value);
    for (const [k, v] of value) value.set(k, restoreBinary(v, segments, made, walked));
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    const m = value as Partial<Marker>;
    if (m.$charm === "raw") return revive(m as Marker, segments, made);
    walked.add(value);
    for (const key of Object.keys(value)) (value as Record<string, unknown>)[key] = restoreBinary((value as Record<string, unknown>)[key], segments, made, walked);
  }
  return value;
}

function revive(m: Marker, segments: Uint8Array[], made: Map<number, ArrayBufferView>): ArrayBufferView {
  const known = made.get(m.k);
  if (known) return known;
  const bytes = segments[m.k];
  const Ctor = CTORS[m.t];
  if (!bytes || !Ctor) throw new CharmError(`a saved typed array (segment ${m.k}, ${String(m.t)}) is missing from its frame`);
  const view = new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT);
  made.set(m.k, view);
  return view;
}
