/**
 * Reads a checkpoint file front to back, checksumming every byte on the way: small pieces
 * (lengths, serialized frames) from a read-ahead buffer, large typed arrays' bytes read by the
 * kernel straight into memory of their own, which becomes the restored array (one copy, as a
 * plain readFile makes, instead of a second one out of the file's buffer).
 */
import { crc32 } from "node:zlib";

const READ_AHEAD = 1 << 20;
// From this size a piece that must have memory of its own is read straight into it.
const DIRECT = 64 << 10;

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
  private buf = Buffer.alloc(0);
  private pos = 0;

  constructor(private readonly source: ReadSource, readonly size: number) {}

  /** The next `n` bytes; with `own`, in memory of their own (a fresh ArrayBuffer of exactly n bytes). */
  async take(n: number, own = false): Promise<Buffer> {
    if (this.at + n > this.size) throw new RangeError(`${n} bytes at ${this.at} run past the end (${this.size})`);
    const buffered = this.buf.length - this.pos;
    let out: Buffer;
    if (n <= buffered) {
      const piece = this.buf.subarray(this.pos, this.pos + n);
      this.pos += n;
      out = own ? copyOut(piece) : piece;
    } else if (own && n >= DIRECT) {
      out = Buffer.allocUnsafeSlow(n); // every byte written below
      this.buf.copy(out, 0, this.pos);
      await this.readFully(out, buffered, this.at + buffered);
      this.buf = Buffer.alloc(0);
      this.pos = 0;
    } else {
      const next = Buffer.allocUnsafe(Math.min(Math.max(n, READ_AHEAD), this.size - this.at));
      this.buf.copy(next, 0, this.pos);
      await this.readFully(next, buffered, this.at + buffered);
      this.buf = next;
      this.pos = n;
      out = own ? copyOut(next.subarray(0, n)) : next.subarray(0, n);
    }
    this.at += n;
    this.crc = crc32(out, this.crc);
    return out;
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
