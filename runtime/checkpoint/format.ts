/**
 * A checkpoint on disk: one file of elements per PE (written by that PE: a format version, then
 * frames, each a serialized list of elements — its length, its bytes — followed by the bytes of
 * the large typed arrays in them, see binary.ts) and a manifest that the
 * driver writes last. A checkpoint is whole exactly when its manifest exists: files and manifest
 * are written under temporary names and renamed into place, and the manifest names every file
 * with its size and CRC-32, so a truncated, corrupt or foreign file is found before anything is
 * restored. (A checksum against accidents, not an authentication: CRC-32 runs at twice SHA-256's
 * speed here, and hashing was a third of a large checkpoint's time.)
 */
import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { open, readFile, rename, rm, type FileHandle } from "node:fs/promises";
import { FileCursor } from "./cursor.ts";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { CharmError } from "../protocol/errors.ts";
import type { CollectionId, Index } from "../protocol/ids.ts";
import type { CollectionRef, SectionDef } from "../protocol/messages.ts";
import { extractBinary, restoreBinary } from "./binary.ts";

/** The checkpoint format this runtime writes and reads. */
export const FORMAT_VERSION = 1;
/** The manifest's name inside a checkpoint directory. */
export const MANIFEST = "manifest.json";
const FORMAT = "charm4ts-checkpoint";
const MAGIC = Buffer.from(`${FORMAT}\n`);
// Frames are gathered into writes of about this size: one write per element cost a syscall each.
const WRITE_BATCH = 4 << 20;
// Elements are serialized in frames of up to this many (or about FRAME_BYTES): a serializer per
// element cost more than the copy of a small element's bytes, and most of the garbage.
const FRAME_ELEMENTS = 512;
const FRAME_BYTES = 1 << 20;
const PADDING = Buffer.alloc(8);

/** A collection as saved: how to address it, its class's declared fields, and (sparse) its size. */
export interface SavedCollection {
  ref: CollectionRef;
  fields: string[];
  total?: number;
}

/** One PE's file as the manifest lists it. */
export interface FileEntry {
  pe: number;
  name: string;
  bytes: number;
  crc32: number;
  elements: number;
}

/** What the manifest says about a whole checkpoint. */
export interface Manifest {
  format: typeof FORMAT;
  version: number;
  created: string;
  numPes: number;
  collections: SavedCollection[];
  sections: SectionDef[];
  /** The named values given to charm.checkpoint, encoded and serialized (base64). */
  named: string;
  files: FileEntry[];
}

/** One saved element: its collection's id then, its index, and its packed state (encoded as for a move). */
export interface SavedElement {
  c: CollectionId;
  i: Index;
  s: unknown;
}

/** A fresh temporary name beside `path` (renamed over it once complete). */
function temporary(path: string): string {
  return `${path}.tmp-${randomBytes(4).toString("hex")}`;
}

/** Writes one PE's file: frames of serialized elements, hashed as they go, renamed into place at the end. */
export class ElementWriter {
  private crc = 0;
  private batch: Buffer[] = [];
  private batched = 0;
  private bytes = 0;
  private count = 0;
  private frame: SavedElement[] = [];
  private frameBytes = 0;

  private constructor(private readonly fh: FileHandle, private readonly tmp: string, private readonly path: string) {}

  /** Opens `dir/name` for writing (under a temporary name). */
  static async create(dir: string, name: string): Promise<ElementWriter> {
    const path = join(dir, name);
    const tmp = temporary(path);
    const writer = new ElementWriter(await open(tmp, "w"), tmp, path);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(FORMAT_VERSION);
    writer.push(MAGIC);
    writer.push(head);
    return writer;
  }

  /** Adds one element whose typed data is about `bytes` long; a promise when the file is being written to (await it). */
  add(element: SavedElement, bytes: number): Promise<void> | undefined {
    this.frame.push(element);
    this.frameBytes += bytes;
    this.count++;
    if (this.frame.length < FRAME_ELEMENTS && this.frameBytes < FRAME_BYTES) return undefined;
    this.endFrame();
    return this.batched >= WRITE_BATCH ? this.flush() : undefined;
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

  /** Flushes, syncs and renames the file into place; returns its manifest entry. */
  async close(pe: number, name: string): Promise<FileEntry> {
    try {
      this.endFrame();
      await this.flush();
      await this.fh.sync(); // the data is on disk before the manifest can name it
    } finally {
      await this.fh.close();
    }
    await rename(this.tmp, this.path);
    return { pe, name, bytes: this.bytes, crc32: this.crc, elements: this.count };
  }

  /** Drops a file that won't be completed. */
  async discard(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
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
    if (batch.length) await this.fh.writev(batch);
  }
}

/** Reads one PE's file, checked against its manifest entry; errors name the file and what is wrong. */
export async function readElements(dir: string, entry: FileEntry): Promise<SavedElement[]> {
  const path = join(dir, entry.name);
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw new CharmError(`checkpoint file ${path} can't be read (${(err as Error).message}); the checkpoint in ${dir} is incomplete`);
  }
  try {
    const size = (await fh.stat()).size;
    if (size !== entry.bytes) throw new CharmError(`checkpoint file ${path} is ${size < entry.bytes ? "truncated" : "longer than written"}: ${size} bytes, the manifest says ${entry.bytes}`);
    const cursor = new FileCursor(fh, size);
    const out = await readFrames(cursor, path);
    // Checked once every byte has been read: a damaged frame usually fails to parse first, with the same verdict.
    if (cursor.crc !== entry.crc32) throw new CharmError(`checkpoint file ${path} is corrupt: its CRC-32 differs from the manifest's`);
    if (out.length !== entry.elements) throw new CharmError(`checkpoint file ${path} holds ${out.length} elements, the manifest says ${entry.elements}`);
    return out;
  } finally {
    await fh.close();
  }
}

async function readFrames(cursor: FileCursor, path: string): Promise<SavedElement[]> {
  const corrupt = (what: string) => new CharmError(`checkpoint file ${path} is corrupt: ${what}`);
  if (cursor.size < MAGIC.length + 4 || !(await cursor.take(MAGIC.length)).equals(MAGIC)) throw new CharmError(`${path} is not a charm4ts checkpoint file`);
  const version = (await cursor.take(4)).readUInt32LE(0);
  if (version !== FORMAT_VERSION) throw new CharmError(`checkpoint file ${path} has format version ${version}; this charm4ts reads version ${FORMAT_VERSION}`);
  const out: SavedElement[] = [];
  while (cursor.at < cursor.size) {
    const where = `the frame after element ${out.length}`;
    if (cursor.at + 4 > cursor.size) throw corrupt(`${where} runs past the end of the file`);
    const len = (await cursor.take(4)).readUInt32LE(0);
    if (cursor.at + len > cursor.size) throw corrupt(`${where} runs past the end of the file`);
    let frame: unknown;
    try {
      frame = deserialize(await cursor.take(len));
    } catch (err) {
      throw corrupt(`${where} can't be read (${(err as Error).message})`);
    }
    if (!Array.isArray(frame) || !Array.isArray(frame[0]) || !Array.isArray(frame[1])) throw corrupt(`${where} is not a list of elements`);
    const [elements, lengths] = frame as [SavedElement[], number[]];
    const segments: Buffer[] = [];
    for (const n of lengths) {
      const pad = (8 - (n % 8)) % 8;
      if (!Number.isInteger(n) || n < 0 || cursor.at + n + pad > cursor.size) throw corrupt(`the typed arrays of ${where} run past the end of the file`);
      segments.push(await cursor.take(n, true));
      if (pad) await cursor.take(pad);
    }
    const made = new Map();
    try {
      for (const el of elements) {
        el.s = restoreBinary(el.s, segments, made);
        out.push(el);
      }
    } catch (err) {
      throw corrupt(`${where}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** Writes the manifest last, atomically: until it is renamed into place the checkpoint doesn't exist. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const path = join(dir, MANIFEST);
  const tmp = temporary(path);
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(JSON.stringify(manifest, null, 1));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** Reads and checks a checkpoint's manifest. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new CharmError(`${dir} holds no complete checkpoint: ${MANIFEST} is missing (it is written last, once every PE's file is complete)`);
  }
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(text) as Partial<Manifest>;
  } catch (err) {
    throw new CharmError(`checkpoint manifest ${path} is corrupt: ${(err as Error).message}`);
  }
  if (m?.format !== FORMAT) throw new CharmError(`${path} is not a charm4ts checkpoint manifest`);
  if (m.version !== FORMAT_VERSION) throw new CharmError(`the checkpoint in ${dir} has format version ${m.version}; this charm4ts reads version ${FORMAT_VERSION}`);
  if (!Array.isArray(m.files) || !Array.isArray(m.collections) || !Array.isArray(m.sections) || typeof m.named !== "string" || !Number.isInteger(m.numPes)) {
    throw new CharmError(`checkpoint manifest ${path} is corrupt: a field is missing`);
  }
  return m as Manifest;
}

/** Encodes the named values for the manifest (already encoded by the codec: proxies as references). */
export function packNamed(encoded: unknown): string {
  return serialize(encoded).toString("base64");
}

/** The named values' encoded form, back from the manifest. */
export function unpackNamed(text: string, dir: string): unknown {
  try {
    return deserialize(Buffer.from(text, "base64"));
  } catch (err) {
    throw new CharmError(`checkpoint manifest in ${dir} is corrupt: its named values can't be read (${(err as Error).message})`);
  }
}
