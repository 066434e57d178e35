/**
 * Reading a frame's plain section (the encoding plain.ts writes) back into saved elements, in
 * the order they were written: plain ones decoded here, listed ones taken from the frame's
 * serialized list. Every typed array gets memory of its own (a small one is copied out of the
 * section; a large one is its segment), so no restored element shares memory with another.
 */
import type { PackedElement } from "../core/migration.ts";
import type { CollectionId } from "../protocol/ids.ts";
import type { SavedElement } from "./format.ts";
import { Flag, KINDS, LISTED, PLAIN, Tag } from "./plain.ts";

type View = ArrayBufferView & { length: number; subarray(a: number, b: number): View; set(src: View): void };
type ViewCtor = { new (n: number): View; new (b: ArrayBufferLike, o: number, n: number): View; BYTES_PER_ELEMENT: number };

/** Decodes one frame's plain section; errors say what is malformed (the caller names the file). */
export class PlainDecoder {
  private pos = 0;
  private readonly dv: DataView;
  private shapes: string[][] = [];
  private views: Array<View | undefined> = [];
  private nextListed = 0;

  /** `bytes` must start 8-aligned in its buffer (read into memory of its own). */
  constructor(private readonly bytes: Buffer, private readonly segments: Uint8Array[], private readonly listed: SavedElement[]) {
    if (bytes.byteOffset % 8) throw new Error("a plain section is not aligned");
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Whether every byte and every listed element has been used (a whole frame read). */
  get done(): boolean {
    return this.pos === this.bytes.length && this.nextListed === this.listed.length;
  }

  /** The frame's next element. */
  next(): SavedElement {
    const kind = this.u8();
    if (kind === LISTED) {
      const el = this.listed[this.nextListed++];
      if (!el) throw new Error("it names more serialized elements than it holds");
      return el;
    }
    if (kind !== PLAIN) throw new Error(`unknown record kind ${kind}`);
    const c = this.number() as CollectionId;
    const i: number[] = [];
    for (let n = this.u32(); n > 0; n--) i.push(this.number());
    const redNo = this.number(), moves = this.number(), load = this.number();
    const flags = this.u8();
    const s: PackedElement = { fields: {}, redNo, moves, load, seen: [], boxes: [] };
    if (flags & Flag.sync) s.sync = 1;
    if (flags & Flag.syncs) s.syncs = this.number();
    if (flags & Flag.sec) {
      s.sec = [];
      for (let n = this.u32(); n > 0; n--) s.sec.push([this.number(), this.number()]);
    }
    const fields = this.value();
    if (fields === null || typeof fields !== "object") throw new Error("an element's fields are not an object");
    s.fields = fields as Record<string, unknown>;
    return { c, i, s, p: 1 };
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
        const out: unknown[] = [];
        for (let k = 0; k < n; k++) out.push(this.value());
        return out;
      }
      case Tag.object: {
        const keys = this.shapes[this.u32()];
        if (!keys) throw new Error("an object names a shape not defined before it");
        return this.fill(keys);
      }
      case Tag.shape: {
        const keys: string[] = [];
        for (let n = this.u32(); n > 0; n--) {
          const k = this.value();
          if (typeof k !== "string" || k === "__proto__") throw new Error("an object's key is not a field name");
          keys.push(k);
        }
        this.shapes.push(keys);
        return this.fill(keys);
      }
      case Tag.view: return this.view();
      case Tag.segment: return this.segment();
      default: throw new Error(`unknown value tag ${tag}`);
    }
  }

  private fill(keys: string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = this.value();
    return out;
  }

  private stringAfter(tag: number): string {
    const n = this.u32();
    if (tag === Tag.utf16) {
      const s = this.bytes.toString("utf16le", this.pos, this.pos + 2 * n);
      if (s.length !== n) throw new Error("a string runs past its frame");
      this.pos += 2 * n;
      return s;
    }
    if (this.pos + n > this.bytes.length) throw new Error("a string runs past its frame");
    const at = this.pos;
    this.pos += n;
    if (n >= 24) return this.bytes.toString("latin1", at, at + n);
    let s = "";
    for (let k = at; k < at + n; k++) s += String.fromCharCode(this.bytes[k]!);
    return s;
  }

  private view(): View {
    const kind = this.u8();
    const n = this.u32();
    const Ctor = KINDS[kind] as unknown as ViewCtor | undefined;
    if (!Ctor) throw new Error(`unknown typed array kind ${kind}`);
    this.pos = (this.pos + 7) & ~7;
    const per = Ctor.BYTES_PER_ELEMENT;
    if (this.pos + n * per > this.bytes.length) throw new Error("a typed array runs past its frame");
    const out = new Ctor(n); // its own memory (on V8's heap when small: no allocation outside it)
    const from = (this.views[kind] ??= new Ctor(this.bytes.buffer, this.bytes.byteOffset, Math.floor(this.bytes.byteLength / per)));
    if (n) out.set(from.subarray(this.pos / per, this.pos / per + n));
    this.pos += n * per;
    return out;
  }

  private segment(): View {
    const Ctor = KINDS[this.u8()] as unknown as ViewCtor | undefined;
    const bytes = this.segments[this.u32()];
    if (!Ctor || !bytes || bytes.byteLength % Ctor.BYTES_PER_ELEMENT) throw new Error("a saved typed array is missing from its frame");
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
