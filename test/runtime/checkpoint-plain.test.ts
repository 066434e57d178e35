// The plain encoding of checkpoint files (fast-check, seeded): random element states written
// through the writer into memory and read back. A state of numbers, strings, booleans, null,
// undefined, typed arrays and arrays/plain objects of those, each object once, must be written
// plain and come back exactly (-0, NaN, lone surrogates, typed array kinds and bytes, key
// order); anything else must go the general way (packed and serialized) and still come back.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decode, encodeValue, registerReviver, registerSerializable, toWire } from "../../runtime/protocol/codec.ts";
import { ElementWriter } from "../../runtime/checkpoint/writer.ts";
import { readElementsInMemory, type LoadedElement, type SavedElement } from "../../runtime/checkpoint/format.ts";
import { PlainFrame } from "../../runtime/checkpoint/plain-read.ts";
import type { PackedElement } from "../../runtime/core/migration.ts";
import type { ElementRecord } from "../../runtime/core/chare.ts";

const KINDS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
type Typed = InstanceType<(typeof KINDS)[number]>;

registerReviver("test-ref", (data) => data);

class Holder { // the chare: its own fields are the state
  constructor(fields: Record<string, unknown>) { Object.assign(this, fields); }
}
class Point { x = 1; } // an instance of a (serializable) class: not plain
registerSerializable(Point);
class Floats extends Float64Array {} // a subclass: not plain

/** The rule the encoder must follow, written independently: plain iff every value is of a plain kind and no object appears twice (at most 63 objects). */
function expectPlain(state: Record<string, unknown>): boolean {
  const seen = new Set<object>();
  const ok = (v: unknown): boolean => {
    if (v === null || ["number", "string", "boolean", "undefined"].includes(typeof v)) return true;
    if (typeof v !== "object" || seen.has(v)) return false;
    seen.add(v);
    if (seen.size > 63) return false;
    if (ArrayBuffer.isView(v)) return KINDS.some((K) => v.constructor === K);
    if ((v as Record<symbol, unknown>)[toWire] !== undefined) return false;
    if (Array.isArray(v)) return v.every(ok);
    if (Object.getPrototypeOf(v) !== Object.prototype || Object.keys(v).includes("__proto__")) return false;
    return Object.values(v).every(ok);
  };
  return Object.values(state).every(ok);
}

/** Exact equality: Object.is for primitives, typed arrays by class and bytes, objects by key order too. */
function same(a: unknown, b: unknown, path = "state"): void {
  if (a === null || typeof a !== "object") { expect(Object.is(a, b), `${path}: ${String(a)} vs ${String(b)}`).toBe(true); return; }
  expect(b !== null && typeof b === "object", `${path} is an object`).toBe(true);
  if (ArrayBuffer.isView(a)) {
    expect((b as object).constructor, `${path}'s class`).toBe(a.constructor);
    const bytes = (v: ArrayBufferView) => Buffer.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    expect(bytes(b as ArrayBufferView).equals(bytes(a)), `${path}'s bytes`).toBe(true);
    return;
  }
  expect(Array.isArray(b), `${path} is an array`).toBe(Array.isArray(a));
  expect(Object.keys(b as object), `${path}'s keys`).toEqual(Object.keys(a));
  for (const k of Object.keys(a)) same((a as any)[k], (b as any)[k], `${path}.${k}`);
}

const typed = (min: number, max: number): fc.Arbitrary<Typed> => fc.tuple(fc.integer({ min: 0, max: KINDS.length - 1 }), fc.integer({ min, max }), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.uint8Array({ minLength: 64, maxLength: 64 }))
  .map(([k, n, offset, shared, seed]) => {
    const K = KINDS[k]!;
    // Views at an offset into a larger buffer, and over shared memory: their bytes are what is saved.
    const buffer = shared ? new SharedArrayBuffer((n + offset + 1) * K.BYTES_PER_ELEMENT) : new ArrayBuffer((n + offset + 1) * K.BYTES_PER_ELEMENT);
    const bytes = new Uint8Array(buffer);
    for (let i = 0; i < bytes.length; i++) bytes[i] = seed[i % 64]! ^ (i * 31);
    return new K(buffer as ArrayBuffer, offset * K.BYTES_PER_ELEMENT, n) as Typed;
  });
const primitive = fc.oneof(
  fc.double(), fc.integer(), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 31 - 1),
  fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 12 }), fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.boolean(), fc.constant(null), fc.constant(undefined),
);
const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("data", "step", "0", "12", "ü", "名前"));
const plainValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, primitive, typed(0, 20), typed(120, 300), tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 4 }),
  object: fc.dictionary(key, tie("value"), { maxKeys: 4 }),
})).value;
// Values the general path must take (each makes its element listed).
const otherValue = fc.oneof(
  fc.constant(0).map(() => new Map([["a", 1]])), fc.constant(0).map(() => new Set([1, 2])), fc.constant(0).map(() => new Date(5)),
  fc.bigInt(), fc.constant(0).map(() => new Point()), fc.constant(0).map(() => new DataView(new ArrayBuffer(8))),
  fc.constant(0).map(() => Buffer.from("abc")), fc.constant(0).map(() => new Floats(3)),
  fc.constant(0).map(() => Object.create(null) as object), fc.constant(0).map(() => JSON.parse('{"__proto__": 1}') as object),
  fc.constant(0).map(() => ({ [toWire]: () => ({ $charm: "test-ref" }) })),
);
const fields = fc.tuple(fc.dictionary(key, plainValue, { maxKeys: 5 }), fc.option(fc.tuple(key, otherValue), { freq: 3 }), fc.option(key, { freq: 3 }))
  .map(([f, other, alias]) => {
    const out = { ...f };
    if (other) out[other[0]] = other[1];
    const first = Object.values(out).find((v) => v !== null && typeof v === "object");
    if (alias !== null && first !== undefined && !(alias in out)) out[alias] = first; // one object in two fields
    return out;
  });
const element = fc.record({
  fields, redNo: fc.nat(), moves: fc.nat(5), load: fc.double({ noNaN: true }), syncs: fc.nat(3), sync: fc.boolean(),
  sec: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }), index: fc.array(fc.integer({ min: -5, max: 1e6 }), { minLength: 1, maxLength: 3 }),
});
type Spec = typeof element extends fc.Arbitrary<infer T> ? T : never;

function record(spec: Spec): ElementRecord {
  const r = { index: spec.index, chare: new Holder(spec.fields), redNo: spec.redNo, moves: spec.moves, load: spec.load, busy: 0 } as unknown as ElementRecord;
  if (spec.syncs) r.syncs = spec.syncs;
  if (spec.sync) r.syncOnArrival = true;
  if (spec.sec.length) r.sectionRedNo = new Map(spec.sec);
  return r;
}

/** Writes the elements as save.ts does (plain if it can, else packed) into memory, and reads them back. */
async function roundTrip(specs: Spec[]): Promise<{ written: boolean[]; read: LoadedElement[] }> {
  let data: Uint8Array | undefined;
  const writer = ElementWriter.inMemory((n) => (data = new Uint8Array(n)));
  const written: boolean[] = [];
  for (const [k, spec] of specs.entries()) {
    const rec = record(spec);
    const plain = writer.addPlain(7 + (k % 2), rec);
    if (!plain) {
      const packed: PackedElement = { fields: { ...rec.chare } as Record<string, unknown>, redNo: spec.redNo, moves: spec.moves + 1, load: spec.load, seen: [], boxes: [] };
      writer.add({ c: (7 + (k % 2)) as never, i: spec.index, s: encodeValue(packed, "state", false).v }, 0);
    }
    written.push(plain);
    await writer.due();
  }
  const { file } = await writer.close(0, "mem");
  return { written, read: await readElementsInMemory(data!, file) };
}

describe("the plain encoding of checkpoint files", () => {
  it("writes plain exactly the plain states, and every state comes back", async () => {
    await fc.assert(fc.asyncProperty(fc.array(element, { minLength: 1, maxLength: 12 }), async (specs) => {
      const { written, read } = await roundTrip(specs);
      expect(read.length).toBe(specs.length);
      specs.forEach((spec, k) => {
        expect(written[k], `element ${k} written plain`).toBe(expectPlain(spec.fields));
        const el = read[k]!;
        expect("frame" in el, `element ${k} read as plain`).toBe(written[k]);
        const saved: SavedElement = "frame" in el ? el.frame.decode(el.at) : el;
        expect(saved.c).toBe(7 + (k % 2));
        expect(saved.i).toEqual(spec.index);
        const s = saved.s as PackedElement;
        if (!written[k]) {
          const back = decode(s.fields) as Record<string, unknown>;
          expect(Object.keys(back)).toEqual(Object.keys(spec.fields));
          return;
        }
        expect(saved.p).toBe(1);
        same(spec.fields, s.fields);
        expect([s.redNo, s.moves, s.load, s.syncs, s.sync]).toEqual([spec.redNo, spec.moves + 1, spec.load, spec.syncs || undefined, spec.sync ? 1 : undefined]);
        expect(s.sec).toEqual(spec.sec.length ? [...new Map(spec.sec)] : undefined);
        // Every typed array in its own memory, not shared with the file's buffers or another element.
        for (const v of Object.values(s.fields)) if (ArrayBuffer.isView(v) && v.byteLength) expect([v.byteOffset, v.buffer.byteLength]).toEqual([0, v.byteLength]);
      });
    }), { seed: 1414, numRuns: 150 });
  });

  it("keeps one object met twice one object (the general way)", async () => {
    const shared = new Float64Array([1, 2, 3]);
    const { written, read } = await roundTrip([{ fields: { a: shared, b: shared }, redNo: 0, moves: 0, load: 0, syncs: 0, sync: false, sec: [], index: [0] }]);
    expect(written).toEqual([false]);
    const f = ((read[0] as SavedElement).s as PackedElement).fields;
    expect(f.a).toBe(f.b);
    expect([...(f.a as Float64Array)]).toEqual([1, 2, 3]);
  });

  it("spans frames: many elements, large typed arrays, one shape per class", async () => {
    const specs: Spec[] = Array.from({ length: 30_000 }, (_, k) => ({
      fields: { data: new Float64Array(k % 1000 === 0 ? 300 : 8).fill(k), step: k, label: `blob ${k}`, nested: { k, list: [k, -0, "x"] } },
      redNo: k, moves: 0, load: 0, syncs: 0, sync: false, sec: [], index: [k],
    }));
    const { written, read } = await roundTrip(specs);
    expect(written.every(Boolean)).toBe(true);
    const frames = new Set(read.map((el) => ("frame" in el ? el.frame : undefined)));
    expect(frames.size).toBeGreaterThan(1);
    for (const k of [0, 1, 999, 1000, 17_001, 29_999]) {
      const el = read[k]!;
      same(specs[k]!.fields, ((el as { frame: PlainFrame; at: number }).frame.decode((el as { at: number }).at).s as PackedElement).fields);
    }
  });

  it("refuses a damaged plain section, saying what is wrong", async () => {
    const { read } = await roundTrip([{ fields: { a: new Int16Array(3), s: "text", o: { x: 1 } }, redNo: 0, moves: 0, load: 0, syncs: 0, sync: false, sec: [], index: [1] }]);
    const frame = (read[0] as { frame: PlainFrame }).frame;
    const bytes = (frame as unknown as { bytes: Buffer }).bytes;
    for (let cut = 1; cut < bytes.length; cut++) {
      const part = Buffer.from(bytes.subarray(0, cut)); // a copy: aligned, its own memory
      expect(() => new PlainFrame(part, [], []).scan(1, []), `cut at ${cut}`).toThrow();
    }
    const tagged = Buffer.from(bytes);
    tagged[0] = 9; // not a record kind
    expect(() => new PlainFrame(tagged, [], []).scan(1, [])).toThrow(/unknown record kind 9/);
  });
});
