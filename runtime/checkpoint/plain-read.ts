/**
 * Reading a frame's plain section (the encoding plain.ts writes) back into saved elements, in
 * the order they were written: plain ones decoded here, listed ones taken from the frame's
 * serialized list. Every typed array gets memory of its own (a small one is copied out of the
 * section; a large one is its segment), so no restored element shares memory with another.
 * Malformed bytes throw an Error saying what is wrong (the caller names the file).
 */
import type { PackedElement } from "../core/migration.ts";
import type { ElementRecord } from "../core/chare.ts";
import type { CollectionId } from "../protocol/ids.ts";
import type { SavedElement } from "./format.ts";
import { Flag, KINDS, LISTED, PLAIN, Tag } from "./plain.ts";

type View = ArrayBufferView & { length: number; subarray(a: number, b: number): View; set(src: View): void };
// Shared by every plain element's state: nothing writes into them (a restore starts its own broadcast history; plain elements have no inboxes).
const NONE: never[] = [];
const NO_FIELDS: Record<string, unknown> = {};
// Typed arrays of at most this many items are copied out of a frame item by item.
const SMALL_VIEW = 16;

type ViewCtor = { new (n: number): View; new (b: ArrayBufferLike, o: number, n: number): View; BYTES_PER_ELEMENT: number };

/** A plain element not decoded yet: where it starts in its frame, and its collection id (checked at load). */
export interface PlainAt {
  frame: PlainFrame;
  at: number;
  c: CollectionId;
}

/**
 * One frame's plain section, in memory of its own. Read in two passes: scan() checks every
 * record (nothing is installed before the whole checkpoint is checked) without building
 * anything, and each element is decoded when it is installed. Objects built at load would
 * survive until the install step, and copying survivors is most of a young-generation GC:
 * decoded at install, all but the element's own state die young.
 */
export class PlainFrame {
  private pos = 0;
  private readonly dv: DataView;
  private shapes: string[][] = [];
  // Where each shape is defined (a byte offset), for decoding an element that defines one.
  private shapeAt = new Map<number, number>();
  private views: Array<View | undefined> = [];
  private build = false;

  /** `bytes` must start 8-aligned in memory of its own. */
  constructor(private readonly bytes: Buffer, private readonly segments: Uint8Array[], private readonly listed: SavedElement[]) {
    if (bytes.byteOffset % 8) throw new Error("a plain section is not aligned");
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Checks all `records` and returns them in order: listed elements as they are, plain ones as places to decode. */
  scan(records: number, into: Array<SavedElement | PlainAt>): void {
    let listed = 0;
    this.build = false;
    for (let r = 0; r < records; r++) {
      const kind = this.u8();
      if (kind === LISTED) {
        const el = this.listed[listed++];
        if (!el) throw new Error("it names more serialized elements than it holds");
        into.push(el);
      } else if (kind === PLAIN) {
        const at = this.pos;
        const c = this.number() as CollectionId;
        this.element();
        into.push({ frame: this, at, c });
      } else {
        throw new Error(`unknown record kind ${kind}`);
      }
    }
    if (this.pos !== this.bytes.length || listed !== this.listed.length) throw new Error(`it holds more than its ${records} elements`);
  }

  /** The plain element at `at` (as scan() found it), decoded. */
  decode(at: number): SavedElement {
    const c = this.head(at);
    const i = this.index;
    const s: PackedElement = { fields: NO_FIELDS, redNo: this.number(), moves: this.number(), load: this.number(), seen: NONE, boxes: NONE };
    const flags = this.u8();
    if (flags & Flag.sync) s.sync = 1;
    if (flags & Flag.syncs) s.syncs = this.number();
    if (flags & Flag.sec) {
      s.sec = [];
      for (let n = this.u32(); n > 0; n--) s.sec.push([this.number(), this.number()]);
    }
    s.fields = this.value() as Record<string, unknown>;
    return { c, i, s, p: 1 };
  }

  /** The index head() read last. */
  index: number[] = NONE;

  /** Reads the plain element at `at` (as scan() found it) up to its state: answers its collection id; its index is left in `index`. */
  head(at: number): CollectionId {
    this.build = true;
    this.pos = at;
    const c = this.number() as CollectionId;
    // Made at its size: the index is kept for good (the record's), and an array grown by push
    // from empty keeps room for 16 numbers, which every restored element carried through the GC.
    const n = this.u32();
    const i = n === 1 ? [this.number()] : new Array<number>(n).fill(0);
    for (let k = n === 1 ? 1 : 0; k < n; k++) i[k] = this.number();
    this.index = i;
    return c;
  }

  /**
   * Reads the rest of the element whose head() was read last straight into `record` and its
   * chare, as unpackElement does with a decoded one (section ids rewritten through `sids`):
   * no state object in between, so nothing but the element's own objects is made.
   */
  restInto(record: ElementRecord, sids: ReadonlyMap<number, number>): void {
    record.redNo = this.number();
    record.moves = this.number();
    const load = this.number();
    if (record.load !== undefined) record.load = load;
    const flags = this.u8();
    if (flags & Flag.syncs) record.syncs = this.number();
    if (flags & Flag.sec) {
      const sec = new Map<number, number>();
      for (let n = this.u32(); n > 0; n--) { const sid = this.number(); sec.set(sids.get(sid) ?? sid, this.number()); }
      record.sectionRedNo = sec;
    }
    const tag = this.u8();
    const keys = tag === Tag.object ? this.shapes[this.u32()]! : this.shape(); // scan() checked it is one of the two
    const chare = record.chare as unknown as Record<string, unknown>;
    for (let k = 0; k < keys.length; k++) chare[keys[k]!] = this.value();
  }

  /** Checks one plain element after its collection id, building nothing. */
  private element(): void {
    for (let n = this.u32(); n > 0; n--) this.number();
    for (let k = 0; k < 3; k++) this.number(); // reduction number, moves, load
    const flags = this.u8();
    if (flags & Flag.syncs) this.number();
    if (flags & Flag.sec) for (let n = 2 * this.u32(); n > 0; n--) this.number();
    const tag = this.bytes[this.pos];
    if (tag !== Tag.object && tag !== Tag.shape) throw new Error("an element's fields are not an object");
    this.value();
  }

  private value(): unknown {
    const tag = this.u8();
    switch (tag) {
      case Tag.undef: return undefined;
      case Tag.null: return null;
      case Tag.false: return false;
      case Tag.true: return true;
      case Tag.int: { const v = this.dv.getInt32(this.pos, true); this.pos += 4; return v; }
      case Tag.float: { const v = this.dv.getFloat64(this.pos, true); this.pos += 8; return v; }
      case Tag.latin1: case Tag.utf16: return this.stringAfter(tag);
      case Tag.array: {
        const n = this.u32();
        if (n > this.bytes.length - this.pos) throw new Error(`an array of ${n} items runs past its frame`);
        if (!this.build) { for (let k = 0; k < n; k++) this.value(); return undefined; }
        const out: unknown[] = [];
        for (let k = 0; k < n; k++) out.push(this.value());
        return out;
      }
      case Tag.object: {
        const keys = this.shapes[this.u32()];
        if (!keys) throw new Error("an object names a shape not defined before it");
        return this.fill(keys);
      }
      case Tag.shape: return this.fill(this.shape());
      case Tag.view: return this.view();
      case Tag.segment: return this.segment();
      default: throw new Error(`unknown value tag ${tag}`);
    }
  }

  /** A shape's keys: read and numbered when scanning, skipped (known by their place) when decoding. */
  private shape(): string[] {
    const at = this.pos;
    const n = this.u32();
    if (this.build) {
      for (let k = 0; k < n; k++) { // key strings, checked by scan()
        const units = this.u8() === Tag.utf16 ? 2 : 1;
        const len = units * this.u32();
        this.pos += len;
      }
      return this.shapes[this.shapeAt.get(at)!]!;
    }
    const keys: string[] = [];
    for (let k = 0; k < n; k++) {
      this.build = true; // a key is a string value: built even while scanning
      const key = this.value();
      this.build = false;
      if (typeof key !== "string" || key === "__proto__") throw new Error("an object's key is not a field name");
      keys.push(key);
    }
    this.shapeAt.set(at, this.shapes.length);
    this.shapes.push(keys);
    return keys;
  }

  private fill(keys: string[]): Record<string, unknown> | undefined {
    if (!this.build) { for (let k = 0; k < keys.length; k++) this.value(); return undefined; }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = this.value();
    return out;
  }

  private stringAfter(tag: number): string | undefined {
    const n = this.u32();
    const len = tag === Tag.utf16 ? 2 * n : n;
    if (this.pos + len > this.bytes.length) throw new Error("a string runs past its frame");
    const at = this.pos;
    this.pos += len;
    if (!this.build) return undefined;
    if (tag === Tag.utf16) return this.bytes.toString("utf16le", at, at + len);
    if (n >= 24) return this.bytes.toString("latin1", at, at + n);
    let s = "";
    for (let k = at; k < at + n; k++) s += String.fromCharCode(this.bytes[k]!);
    return s;
  }

  private view(): View | undefined {
    const kind = this.u8();
    const n = this.u32();
    const Ctor = KINDS[kind] as unknown as ViewCtor | undefined;
    if (!Ctor) throw new Error(`unknown typed array kind ${kind}`);
    this.pos = (this.pos + 7) & ~7;
    const per = Ctor.BYTES_PER_ELEMENT;
    if (this.pos + n * per > this.bytes.length) throw new Error("a typed array runs past its frame");
    if (!this.build) { this.pos += n * per; return undefined; }
    const out = new Ctor(n); // its own memory (on V8's heap when small: no allocation outside it)
    const from = (this.views[kind] ??= new Ctor(this.bytes.buffer, this.bytes.byteOffset, Math.floor(this.bytes.byteLength / per)));
    const at = this.pos / per;
    // A few items are copied one by one: a subarray to set() from was a view made (and dropped) per array.
    if (n <= SMALL_VIEW) for (let k = 0; k < n; k++) (out as unknown as number[])[k] = (from as unknown as number[])[at + k]!;
    else out.set(from.subarray(at, at + n));
    this.pos += n * per;
    return out;
  }

  private segment(): View | undefined {
    const Ctor = KINDS[this.u8()] as unknown as ViewCtor | undefined;
    const bytes = this.segments[this.u32()];
    if (!Ctor || !bytes || bytes.byteLength % Ctor.BYTES_PER_ELEMENT) throw new Error("a saved typed array is missing from its frame");
    if (!this.build) return undefined;
    // A segment is read into memory of its own and named once: it becomes the array.
    return new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
  }

  private number(): number {
    const tag = this.u8();
    if (tag === Tag.int) { const v = this.dv.getInt32(this.pos, true); this.pos += 4; return v; }
    if (tag === Tag.float) { const v = this.dv.getFloat64(this.pos, true); this.pos += 8; return v; }
    throw new Error(`a number was expected (tag ${tag})`);
  }

  private u8(): number {
    return this.dv.getUint8(this.pos++);
  }

  private u32(): number {
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
}
