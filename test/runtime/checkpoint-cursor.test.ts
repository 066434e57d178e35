// The checkpoint file cursor: every byte taken once, in order, into the running CRC-32, whatever
// the mix of small pieces, pieces read straight into memory of their own, and empty pieces (a
// frame's zero padding after a large array). Node's crc32 returns 0 for an empty buffer without
// memory, whatever the running value: an empty take must leave the CRC alone.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { crc32 } from "node:zlib";
import { randomBytes } from "node:crypto";
import { FileCursor } from "../../runtime/checkpoint/cursor.ts";

const source = (bytes: Buffer) => ({ read: async (into: Buffer, off: number, len: number, pos: number) => ({ bytesRead: bytes.copy(into, off, pos, pos + len) }) });

describe("FileCursor", () => {
  it("hands out exactly the file's bytes and their CRC-32, for any split (empty pieces too)", async () => {
    const file = randomBytes(3 << 20);
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.oneof(fc.constant(0), fc.nat(64), fc.nat(200_000), fc.integer({ min: 1 << 20, max: 1.5 * (1 << 20) })), fc.boolean()), { maxLength: 40 }), async (takes) => {
      const cursor = new FileCursor(source(file), file.length);
      for (const [want, own] of takes) {
        const n = Math.min(want, file.length - cursor.at);
        const at = cursor.at;
        const piece = await cursor.take(n, own);
        expect(piece.equals(file.subarray(at, at + n))).toBe(true);
        if (own) expect(piece.buffer.byteLength).toBe(n); // memory of its own, exactly its size
        expect(cursor.crc).toBe(crc32(file.subarray(0, cursor.at)));
      }
    }), { seed: 77, numRuns: 60 });
  });
});
