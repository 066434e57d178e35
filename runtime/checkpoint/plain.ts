/**
 * Writing an element in the plain encoding (format version 2): an element whose fields hold
 * only numbers, strings, booleans, undefined, null, typed arrays, and arrays and plain objects
 * of those (each object met once) goes field by field into its frame's plain section, small
 * typed arrays' bytes inline. Most elements are such, and they skip the codec and V8's
 * serializer, which took every small typed array through Node's JS host-object callback: about
 * 10 µs an element, twenty times the cost of writing its bytes. Anything else (a proxy, future
 * or channel, a Map, a class instance, one object in two places, a channel inbox) leaves the
 * element to the general path: packed as for a move and serialized (writer.ts).
 *
 * Bytes (little-endian): a record is PLAIN then the element, or LISTED (the frame's next
 * serialized element). An element: its collection id and index (numbers), reduction number,
 * moves, load, a flags byte (sync, syncs, section reduction numbers follow), then its fields as
 * an object. A value is a tag byte then its payload; an object's keys are written once per
 * frame (SHAPE: they get the next shape number; OBJECT names one).
 */
import { toWire } from "../protocol/codec.ts";
import type { ElementRecord } from "../core/chare.ts";
import { CTORS, RAW_MIN_BYTES, type CtorName } from "./binary.ts";

/** Record kinds. */
export const PLAIN = 1, LISTED = 2;
/** Value tags. */
export const Tag = { undef: 0, null: 1, false: 2, true: 3, int: 4, float: 5, latin1: 6, utf16: 7, array: 8, object: 9, shape: 10, view: 11, segment: 12 } as const;
/** Flags after an element's load. */
export const Flag = { sync: 1, syncs: 2, sec: 4 } as const;
/** The typed array classes by their number in the encoding. */
export const KINDS = Object.keys(CTORS).map((k) => CTORS[k as CtorName]);
const KIND_OF = new Map<Function, number>(KINDS.map((c, k) => [c, k]));

// Objects an element may hold and stay plain: each new one is compared with those met before
// (an object met twice must stay one object, so that element goes the general way).
const MAX_OBJECTS = 64;
// Shapes compared with an object's keys before its keys are written out again.
const SHAPE_SCAN = 16;
// Frames' memory kept for reuse: a write batch's worth.
const KEEP_FREE = 8;

type View = ArrayBufferView & { length: number; set(src: ArrayLike<unknown>, at: number): void };

/** Encodes a frame's plain elements into one growing buffer. */
export class PlainEncoder {
  /** Records (plain and listed) in this frame. */
  records = 0;
  /** Bytes of the large typed arrays this frame's plain elements put in segments. */
  segmentBytes = 0;
  private buf: Buffer;
  private dv: DataView;
  // Typed views over `buf` by kind, made on first use: a small array is copied with one set().
  private views: Array<View | undefined> = [];
  private pos = 0;
  private shapes: string[][] = [];
  // The first `objectCount` are this element's. A count, not the array's length: emptying an array
  // by its length drops its memory, and the next push allocates anew, per element (a save of
  // 100,000 small elements took ~30 % longer). Cleared by take(), so no chare's object is kept.
  private objects: Array<object | null> = new Array(MAX_OBJECTS).fill(null);
  private objectCount = 0;
  private free: Buffer[] = [];

  /** `capacity`: a frame's usual size, so that its buffer rarely grows (each growth copies it). */
  constructor(private readonly capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
    this.dv = new DataView(this.buf.buffer);
  }

  /** Bytes written in this frame. */
  get size(): number {
    return this.pos;
  }

  /**
   * Writes `record`'s element (of collection `cid`) if its state is plain, its large typed
   * arrays appended to `segments`; false, with nothing written, if it isn't.
   */
  element(cid: number, record: ElementRecord, segments: ArrayBufferView[]): boolean {
    const start = this.pos, segs = segments.length, shapes = this.shapes.length, segBytes = this.segmentBytes;
    this.objectCount = 0;
    this.u8(PLAIN);
    this.number(cid);
    this.u32(record.index.length);
    for (const x of record.index) this.number(x);
    this.number(record.redNo);
    this.number((record.moves ?? 0) + 1);
    this.number(record.load ?? 0);
    const sec = record.sectionRedNo;
    this.u8((record.syncOnArrival ? Flag.sync : 0) | (record.syncs ? Flag.syncs : 0) | (sec?.size ? Flag.sec : 0));
    if (record.syncs) this.number(record.syncs);
    if (sec?.size) {
      this.u32(sec.size);
      for (const [sid, next] of sec) { this.number(sid); this.number(next); }
    }
    const chare = record.chare!;
    this.objects[this.objectCount++] = chare; // a field holding the chare itself isn't plain
    if (this.object(chare, segments)) {
      this.records++;
      return true;
    }
    this.pos = start;
    segments.length = segs;
    this.shapes.length = shapes;
    this.segmentBytes = segBytes;
    return false;
  }

  /** Marks the place of the frame's next serialized element. */
  listed(): void {
    this.u8(LISTED);
    this.records++;
  }

  /** The frame's bytes; the encoder starts the next frame. */
  take(): Buffer {
    let out: Buffer;
    if (this.pos < this.buf.length >> 4) {
      // A small section (a frame of large arrays) is copied out: the buffer stays for the next frame.
      out = Buffer.allocUnsafe(this.pos);
      this.buf.copy(out, 0, 0, this.pos);
    } else {
      out = this.buf.subarray(0, this.pos);
      this.buf = this.free.pop() ?? Buffer.allocUnsafeSlow(this.capacity);
    }
    this.dv = new DataView(this.buf.buffer);
    this.views = [];
    this.pos = 0;
    this.shapes = [];
    this.objects.fill(null);
    this.records = 0;
    this.segmentBytes = 0;
    return out;
  }

  private value(v: unknown, segments: ArrayBufferView[]): boolean {
    switch (typeof v) {
      case "number": this.number(v); return true;
      case "string": this.string(v); return true;
      case "boolean": this.u8(v ? Tag.true : Tag.false); return true;
      case "undefined": this.u8(Tag.undef); return true;
      case "object": break;
      default: return false; // a bigint, a function (a bound entry method?), a symbol
    }
    if (v === null) { this.u8(Tag.null); return true; }
    const objects = this.objects, count = this.objectCount;
    if (count >= MAX_OBJECTS) return false;
    for (let k = 0; k < count; k++) if (objects[k] === v) return false;
    objects[count] = v;
    this.objectCount = count + 1;
    if (ArrayBuffer.isView(v)) return this.view(v as View, segments);
    // A property read, as the codec does: a proxy (over an array too) answers it and is a reference.
    if ((v as Record<symbol, unknown>)[toWire] !== undefined) return false;
    if (Array.isArray(v)) {
      this.u8(Tag.array);
      this.u32(v.length);
      for (let i = 0; i < v.length; i++) if (!this.value(v[i], segments)) return false;
      return true;
    }
    return Object.getPrototypeOf(v) === Object.prototype && this.object(v, segments);
  }

  /** An object's own enumerable string keys, then their values. */
  private object(o: object, segments: ArrayBufferView[]): boolean {
    const keys = Object.keys(o);
    const id = this.shapeOf(keys);
    if (id >= 0) {
      this.u8(Tag.object);
      this.u32(id);
    } else {
      if (keys.includes("__proto__")) return false; // an own "__proto__" would become the prototype when assigned back
      this.u8(Tag.shape);
      this.u32(keys.length);
      for (const k of keys) this.string(k);
      this.shapes.push(keys);
    }
    for (const k of keys) if (!this.value((o as Record<string, unknown>)[k], segments)) return false;
    return true;
  }

  private shapeOf(keys: string[]): number {
    const shapes = this.shapes;
    for (let s = shapes.length - 1; s >= 0 && s >= shapes.length - SHAPE_SCAN; s--) {
      const known = shapes[s]!;
      if (known.length !== keys.length) continue;
      let k = 0;
      while (k < keys.length && known[k] === keys[k]) k++;
      if (k === keys.length) return s;
    }
    return -1;
  }

  private view(v: View, segments: ArrayBufferView[]): boolean {
    const kind = KIND_OF.get(v.constructor);
    if (kind === undefined) return false; // a DataView, a Buffer, a subclass: the general path keeps what they are
    const bytes = v.byteLength;
    if (bytes >= RAW_MIN_BYTES) {
      this.u8(Tag.segment);
      this.u8(kind);
      this.u32(segments.length);
      segments.push(v);
      this.segmentBytes += bytes;
      return true;
    }
    this.u8(Tag.view);
    this.u8(kind);
    this.u32(v.length);
    this.pos = (this.pos + 7) & ~7; // the bytes start aligned: one set() from a typed view over buf
    this.ensure(bytes);
    const Ctor = KINDS[kind] as unknown as { new (b: ArrayBufferLike, o: number, n: number): View; BYTES_PER_ELEMENT: number };
    const per = Ctor.BYTES_PER_ELEMENT;
    const into = (this.views[kind] ??= new Ctor(this.buf.buffer, 0, Math.floor(this.buf.byteLength / per)));
    // Not v.buffer: reading it moves a small array's bytes off V8's heap (an allocation each).
    if (v.length) into.set(v as unknown as ArrayLike<unknown>, this.pos / per);
    this.pos += bytes;
    return true;
  }

  private number(v: number): void {
    this.ensure(9);
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      this.buf[this.pos++] = Tag.int;
      this.dv.setInt32(this.pos, v, true);
      this.pos += 4;
    } else {
      this.buf[this.pos++] = Tag.float;
      this.dv.setFloat64(this.pos, v, true);
      this.pos += 8;
    }
  }

  private string(s: string): void {
    const n = s.length;
    this.ensure(5 + 2 * n);
    let i = 0;
    while (i < n && s.charCodeAt(i) < 0x100) i++;
    const oneByte = i === n;
    this.buf[this.pos++] = oneByte ? Tag.latin1 : Tag.utf16;
    this.dv.setUint32(this.pos, n, true);
    this.pos += 4;
    if (!oneByte) {
      // UTF-16 code units as they are: a lone surrogate survives (UTF-8 would replace it).
      this.pos += this.buf.write(s, this.pos, 2 * n, "utf16le");
    } else if (n < 32) {
      for (let k = 0; k < n; k++) this.buf[this.pos + k] = s.charCodeAt(k);
      this.pos += n;
    } else {
      this.pos += this.buf.write(s, this.pos, n, "latin1");
    }
  }

  /** Gives back the memory of a frame taken before, once it is written. */
  recycle(frame: Buffer): void {
    const whole = Buffer.from(frame.buffer, 0, frame.buffer.byteLength);
    if (whole.length === this.capacity && this.free.length < KEEP_FREE) this.free.push(whole);
  }

  private u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  private u32(v: number): void {
    this.ensure(4);
    this.dv.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.dv = new DataView(next.buffer);
    this.views = [];
  }
}
