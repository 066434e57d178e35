/**
 * Writes one PE's part of a checkpoint: elements gathered into frames (a header, the plain
 * section where most elements are written field by field (plain.ts), the serialized list of the
 * others, then the bytes of the large typed arrays in both, see binary.ts), checksummed as they
 * go, into a file (temporary name, fsync, rename) or into memory (an in-memory checkpoint, kept
 * for a buddy PE).
 */
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { serialize } from "node:v8";
import { crc32 } from "node:zlib";
import type { ElementRecord } from "../core/chare.ts";
import { extractBinary } from "./binary.ts";
import { fileHeader, FRAME_HEADER, temporary, type FileEntry, type SavedElement } from "./format.ts";
import { PlainEncoder } from "./plain.ts";

// Frames are gathered into writes of about this size: one write per element cost a syscall each.
const WRITE_BATCH = 4 << 20;
// A frame ends at this many serialized elements, or about this many bytes of plain section or of
// large arrays: a serializer per element cost more than the copy of a small element's bytes.
const FRAME_ELEMENTS = 512;
const FRAME_BYTES = 1 << 20;
const PADDING = Buffer.alloc(8);
const NONE = Buffer.alloc(0);

/** Where a writer's bytes go. */
interface Sink {
  write(buffers: Buffer[]): Promise<unknown>;
  /** Whether buffers are free again once written (a file's are; memory keeps them until finished). */
  reuses: boolean;
  /** Makes the bytes whole: a file synced and renamed into place; memory joined into one buffer. */
  finish(): Promise<Buffer | undefined>;
  discard(): Promise<void>;
}

/** A file under a temporary name until it is finished. */
function fileSink(fh: FileHandle, tmp: string, path: string): Sink {
  return {
    write: (buffers) => fh.writev(buffers),
    reuses: true,
    async finish() {
      try {
        await fh.sync(); // the data is on disk before the manifest can name it
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      return undefined;
    },
    async discard() {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
    },
  };
}

/** Memory: the pieces are joined (copied: some are views of chares' arrays) into `memory(bytes)` when finished. */
function memorySink(memory: (bytes: number) => Uint8Array): Sink {
  let pieces: Buffer[] = [];
  return {
    write: async (buffers) => { pieces.push(...buffers); },
    reuses: false,
    finish: async () => {
      const out = memory(pieces.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of pieces) { out.set(p, at); at += p.length; }
      pieces = [];
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    },
    discard: async () => { pieces = []; },
  };
}

/** Writes one PE's elements. */
export class ElementWriter {
  private crc = 0;
  private batch: Buffer[] = [];
  private batched = 0;
  private bytes = 0;
  private count = 0;
  // Room for the element that takes a frame past FRAME_BYTES.
  private readonly plain = new PlainEncoder(FRAME_BYTES + (64 << 10));
  private listed: SavedElement[] = [];
  private listedBytes = 0;
  private segments: ArrayBufferView[] = [];
  // Large arrays met in the listed elements of this frame: one array met twice is one segment.
  private shared = new Map();
  // Plain sections pushed since the last write.
  private spent: Buffer[] = [];

  private constructor(private readonly sink: Sink) {
    for (const b of fileHeader()) this.push(b);
  }

  /** A writer of `dir/name` (under a temporary name until closed). */
  static async create(dir: string, name: string): Promise<ElementWriter> {
    const path = join(dir, name);
    const tmp = temporary(path);
    return new ElementWriter(fileSink(await open(tmp, "w"), tmp, path));
  }

  /** A writer into memory that `memory(bytes)` gives when it is finished (an in-memory checkpoint). */
  static inMemory(memory: (bytes: number) => Uint8Array): ElementWriter {
    return new ElementWriter(memorySink(memory));
  }

  /** Adds `record`'s element (of collection `cid`) in the plain encoding if its state allows it; false if not (add() it packed). */
  addPlain(cid: number, record: ElementRecord): boolean {
    if (!this.plain.element(cid, record, this.segments)) return false;
    this.count++;
    return true;
  }

  /** Adds one packed element whose typed data is about `bytes` long. */
  add(element: SavedElement, bytes: number): void {
    element.s = extractBinary(element.s, this.segments, this.shared);
    this.plain.listed();
    this.listed.push(element);
    this.listedBytes += bytes;
    this.count++;
  }

  /** Ends the frame once it is full, and writes once a batch is gathered: a promise then (await it). */
  due(): Promise<void> | undefined {
    if (this.listed.length < FRAME_ELEMENTS && this.plain.size < FRAME_BYTES && this.plain.segmentBytes + this.listedBytes < FRAME_BYTES) return undefined;
    this.endFrame();
    return this.batched >= WRITE_BATCH ? this.flush() : undefined;
  }

  /** Finishes the file (or the memory); returns its manifest entry, and the bytes when in memory. */
  async close(pe: number, name: string): Promise<{ file: FileEntry; data?: Buffer }> {
    this.endFrame();
    await this.flush();
    const data = await this.sink.finish();
    return { file: { pe, name, bytes: this.bytes, crc32: this.crc, elements: this.count }, data };
  }

  /** Drops what won't be completed. */
  discard(): Promise<void> {
    return this.sink.discard();
  }

  /** Writes the elements gathered so far as one frame: its header, the serialized list, each large typed array's bytes as it is, then the plain section. */
  private endFrame(): void {
    const records = this.plain.records;
    if (records === 0) return;
    const segments = this.segments;
    const plain = this.plain.take();
    const list = this.listed.length ? serialize(this.listed) : NONE;
    const header = Buffer.alloc(FRAME_HEADER + 8 * segments.length);
    header.writeUInt32LE(records, 0);
    header.writeUInt32LE(plain.length, 4);
    header.writeUInt32LE(list.length, 8);
    header.writeUInt32LE(segments.length, 12);
    segments.forEach((v, k) => header.writeDoubleLE(v.byteLength, FRAME_HEADER + 8 * k));
    this.listed = [];
    this.listedBytes = 0;
    this.segments = [];
    this.shared = new Map();
    this.push(header);
    this.pushAligned(list);
    // No copy: written from the chare's memory.
    for (const v of segments) this.pushAligned(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    // Last: a reader decodes it once the segments its elements name are read.
    this.pushAligned(plain);
    this.spent.push(plain);
  }

  /** Pushes `buf`, then padding to the next multiple of 8: what follows stays aligned. */
  private pushAligned(buf: Buffer): void {
    if (buf.length === 0) return;
    this.push(buf);
    if (buf.length % 8) this.push(PADDING.subarray(0, 8 - (buf.length % 8)));
  }

  private push(buf: Buffer): void {
    if (buf.length === 0) return; // crc32 of an empty buffer without memory returns 0, not the running value
    this.crc = crc32(buf, this.crc);
    this.batch.push(buf);
    this.batched += buf.length;
    this.bytes += buf.length;
  }

  private async flush(): Promise<void> {
    const batch = this.batch, spent = this.spent;
    this.batch = [];
    this.batched = 0;
    this.spent = [];
    if (batch.length) await this.sink.write(batch);
    // Written: the plain sections' memory serves the next frames (fresh memory faults on every page).
    if (this.sink.reuses) for (const b of spent) this.plain.recycle(b);
  }
}
