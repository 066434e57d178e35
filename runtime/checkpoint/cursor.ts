/**
 * Reads a checkpoint file front to back, checksumming every byte on the way: small pieces
 * (lengths, serialized frames, plain sections) from one read-ahead buffer, large typed arrays'
 * bytes read by the kernel straight into memory of their own, which becomes the restored array
 * (one copy, as a plain readFile makes, instead of a second one out of the file's buffer).
 *
 * The read-ahead buffer is reused: fresh memory costs a page fault per 4 KiB page on first touch
 * (about a third of a small-element restore's reading). So a piece taken without `own` is valid
 * only until the next take. A byte at file position p sits at offset p mod 8 of that buffer's
 * 8-byte grid, so a piece at an 8-aligned position is 8-aligned in memory (typed views fit it).
 */
import { crc32 } from "node:zlib";

const READ_AHEAD = 1 << 20;
// From this size a piece that must have memory of its own is read straight into it.
const DIRECT = 64 << 10;
const NOTHING = Buffer.alloc(0);

/** What a cursor reads from: an open file, or memory that answers the same way. */
export interface ReadSource {
  read(into: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/** A sequential reader over an open file (or memory) of known size. */
export class FileCursor {
  /** The position of the next byte to take. */
  at = 0;
  /** CRC-32 of every byte taken so far. */
  crc = 0;
  // The read-ahead memory, and the window of it that holds file bytes [at - (pos - start)…at + (end - pos)).
  private mem = Buffer.alloc(0);
  private pos = 0;
  private end = 0;

  constructor(private readonly source: ReadSource, readonly size: number) {}

  /** The next `n` bytes: valid until the next take, or with `own` in memory of their own (a fresh ArrayBuffer of exactly n bytes). */
  async take(n: number, own = false): Promise<Buffer> {
    if (this.at + n > this.size) throw new RangeError(`${n} bytes at ${this.at} run past the end (${this.size})`);
    // Not through crc32: given an empty buffer without memory (Buffer.alloc(0)) it returns 0, not the running value.
    if (n === 0) return own ? Buffer.allocUnsafeSlow(0) : NOTHING;
    const buffered = this.end - this.pos;
    let out: Buffer;
    if (n <= buffered) {
      const piece = this.mem.subarray(this.pos, this.pos + n);
      this.pos += n;
      out = own ? copyOut(piece) : piece;
    } else if (own && n >= DIRECT) {
      out = Buffer.allocUnsafeSlow(n); // every byte written below
      this.mem.copy(out, 0, this.pos, this.end);
      await this.readFully(out, buffered, this.at + buffered);
      this.pos = this.end = 0;
    } else {
      await this.refill(n);
      const piece = this.mem.subarray(this.pos, this.pos + n);
      this.pos += n;
      out = own ? copyOut(piece) : piece;
    }
    this.at += n;
    this.crc = crc32(out, this.crc);
    return out;
  }

  /** Moves the unread bytes to the front (on the file's 8-byte grid) and reads on, at least `n` bytes in all. */
  private async refill(n: number): Promise<void> {
    const lead = this.at % 8;
    const want = Math.min(lead + Math.max(n, READ_AHEAD), lead + this.size - this.at);
    const buffered = this.end - this.pos;
    let mem = this.mem;
    if (mem.length < want) {
      mem = Buffer.allocUnsafeSlow(want);
      this.mem.copy(mem, lead, this.pos, this.end);
    } else {
      mem.copy(mem, lead, this.pos, this.end); // overlapping: copy moves like memmove
    }
    this.mem = mem;
    await this.readFully(mem.subarray(0, want), lead + buffered, this.at + buffered);
    this.pos = lead;
    this.end = want;
  }

  private async readFully(into: Buffer, from: number, position: number): Promise<void> {
    for (let off = from; off < into.length;) {
      const { bytesRead } = await this.source.read(into, off, into.length - off, position + off - from);
      if (bytesRead === 0) throw new RangeError(`the file ended at ${position + off - from} of ${this.size} bytes`);
      off += bytesRead;
    }
  }
}

function copyOut(piece: Buffer): Buffer {
  const own = Buffer.allocUnsafeSlow(piece.length);
  piece.copy(own);
  return own;
}
