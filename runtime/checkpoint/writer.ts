/**
 * Writes one PE's part of a checkpoint: elements gathered into frames (a serialized list, then
 * the bytes of the large typed arrays in it, see binary.ts), checksummed as they go, into a file
 * (temporary name, fsync, rename) or into memory (an in-memory checkpoint, kept for a buddy PE).
 */
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { serialize } from "node:v8";
import { crc32 } from "node:zlib";
import { extractBinary } from "./binary.ts";
import { fileHeader, temporary, type FileEntry, type SavedElement } from "./format.ts";

// Frames are gathered into writes of about this size: one write per element cost a syscall each.
const WRITE_BATCH = 4 << 20;
// Elements are serialized in frames of up to this many (or about FRAME_BYTES): a serializer per
// element cost more than the copy of a small element's bytes, and most of the garbage.
const FRAME_ELEMENTS = 512;
const FRAME_BYTES = 1 << 20;
const PADDING = Buffer.alloc(8);

/** Where a writer's bytes go. */
interface Sink {
  write(buffers: Buffer[]): Promise<unknown>;
  /** Makes the bytes whole: a file synced and renamed into place; memory joined into one buffer. */
  finish(): Promise<Buffer | undefined>;
  discard(): Promise<void>;
}

/** A file under a temporary name until it is finished. */
function fileSink(fh: FileHandle, tmp: string, path: string): Sink {
  return {
    write: (buffers) => fh.writev(buffers),
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
  private frame: SavedElement[] = [];
  private frameBytes = 0;

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

  /** Adds one element whose typed data is about `bytes` long; a promise when the sink is being written to (await it). */
  add(element: SavedElement, bytes: number): Promise<void> | undefined {
    this.frame.push(element);
    this.frameBytes += bytes;
    this.count++;
    if (this.frame.length < FRAME_ELEMENTS && this.frameBytes < FRAME_BYTES) return undefined;
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

  /** Writes the elements gathered so far as one frame: the serialized list, then each large typed array's bytes as it is. */
  private endFrame(): void {
    if (this.frame.length === 0) return;
    const segments: ArrayBufferView[] = [];
    const seen = new Map();
    for (const el of this.frame) el.s = extractBinary(el.s, segments, seen);
    const body = serialize([this.frame, segments.map((v) => v.byteLength)]);
    this.frame = [];
    this.frameBytes = 0;
    const len = Buffer.alloc(4);
    len.writeUInt32LE(body.length);
    this.push(len);
    this.push(body);
    for (const v of segments) {
      this.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength)); // no copy: written from the chare's memory
      if (v.byteLength % 8) this.push(PADDING.subarray(0, 8 - (v.byteLength % 8))); // the next segment stays aligned
    }
  }

  private push(buf: Buffer): void {
    this.crc = crc32(buf, this.crc);
    this.batch.push(buf);
    this.batched += buf.length;
    this.bytes += buf.length;
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.batched = 0;
    if (batch.length) await this.sink.write(batch);
  }
}
