/**
 * A checkpoint on disk: one file of elements per PE (written by that PE: a format version, then
 * frames, each a header, a serialized list of the elements that aren't plain, the bytes of the
 * large typed arrays of the frame, see binary.ts, and a plain section of the other elements
 * written field by field, see plain.ts; every piece padded to a multiple of 8 bytes) and a
 * manifest that the
 * driver writes last. A checkpoint is whole exactly when its manifest exists: files and manifest
 * are written under temporary names and renamed into place, and the manifest names every file
 * with its size and CRC-32, so a truncated, corrupt or foreign file is found before anything is
 * restored. (A checksum against accidents, not an authentication: CRC-32 runs at twice SHA-256's
 * speed here, and hashing was a third of a large checkpoint's time.)
 */
import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { open, readFile, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { FileCursor, type ReadSource } from "./cursor.ts";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { CharmError } from "../protocol/errors.ts";
import type { CollectionId, Index } from "../protocol/ids.ts";
import type { CollectionRef, SectionDef } from "../protocol/messages.ts";
import { restoreBinary } from "./binary.ts";
import { PlainFrame, type PlainAt } from "./plain-read.ts";

/** The checkpoint format this runtime writes and reads. */
export const FORMAT_VERSION = 2;
/** A frame's header before its segments' lengths: records, plain section bytes, serialized list bytes, segments (u32 each). */
export const FRAME_HEADER = 16;
/** The manifest's name inside a checkpoint directory. */
export const MANIFEST = "manifest.json";
const FORMAT = "charm4ts-checkpoint";
const MAGIC = Buffer.from(`${FORMAT}\n`);

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
  /** In memory: the PE that keeps a copy of this part. */
  buddy?: number;
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
  /** Read from the plain encoding: its state holds no references, nothing to rewrite or decode. */
  p?: 1;
}

/** An element as a file is read: saved as it was, or plain and decoded once it is installed. */
export type LoadedElement = SavedElement | PlainAt;

/** A fresh temporary name beside `path` (renamed over it once complete). */
export function temporary(path: string): string {
  return `${path}.tmp-${randomBytes(4).toString("hex")}`;
}

/** The bytes every checkpoint file starts with: the format's name and version. */
export function fileHeader(): Buffer[] {
  const version = Buffer.alloc(4);
  version.writeUInt32LE(FORMAT_VERSION);
  return [MAGIC, version];
}

/** Reads one PE's file, checked against its manifest entry; errors name the file and what is wrong. */
export async function readElements(dir: string, entry: FileEntry): Promise<LoadedElement[]> {
  const path = join(dir, entry.name);
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw new CharmError(`checkpoint file ${path} can't be read (${(err as Error).message}); the checkpoint in ${dir} is incomplete`);
  }
  try {
    return await readChecked(fh, (await fh.stat()).size, entry, `checkpoint file ${path}`);
  } finally {
    await fh.close();
  }
}

/** Reads one PE's part of an in-memory checkpoint, checked as a file is. */
export function readElementsInMemory(data: Uint8Array, entry: FileEntry): Promise<LoadedElement[]> {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const source = { read: async (into: Buffer, off: number, len: number, position: number) => ({ bytesRead: bytes.copy(into, off, position, position + len) }) };
  return readChecked(source, bytes.length, entry, `PE ${entry.pe}'s in-memory checkpoint`);
}

async function readChecked(source: ReadSource, size: number, entry: FileEntry, what: string): Promise<LoadedElement[]> {
  if (size !== entry.bytes) throw new CharmError(`${what} is ${size < entry.bytes ? "truncated" : "longer than written"}: ${size} bytes, the manifest says ${entry.bytes}`);
  const cursor = new FileCursor(source, size);
  const out = await readFrames(cursor, what);
  // Checked once every byte has been read: a damaged frame usually fails to parse first, with the same verdict.
  if (cursor.crc !== entry.crc32) throw new CharmError(`${what} is corrupt: its CRC-32 differs from the manifest's`);
  if (out.length !== entry.elements) throw new CharmError(`${what} holds ${out.length} elements, the manifest says ${entry.elements}`);
  return out;
}

async function readFrames(cursor: FileCursor, what: string): Promise<LoadedElement[]> {
  const corrupt = (why: string) => new CharmError(`${what} is corrupt: ${why}`);
  if (cursor.size < MAGIC.length + 4 || !(await cursor.take(MAGIC.length)).equals(MAGIC)) throw new CharmError(`${what} is not a charm4ts checkpoint file`);
  const version = (await cursor.take(4)).readUInt32LE(0);
  if (version !== FORMAT_VERSION) throw new CharmError(`${what} has format version ${version}; this charm4ts reads version ${FORMAT_VERSION}`);
  const out: LoadedElement[] = [];
  const pad = (n: number) => (8 - (n % 8)) % 8;
  while (cursor.at < cursor.size) {
    const where = `the frame after element ${out.length}`;
    const past = () => corrupt(`${where} runs past the end of the file`);
    if (cursor.at + FRAME_HEADER > cursor.size) throw past();
    const header = await cursor.take(FRAME_HEADER);
    const records = header.readUInt32LE(0), plainLen = header.readUInt32LE(4), listLen = header.readUInt32LE(8), count = header.readUInt32LE(12);
    if (cursor.at + 8 * count + plainLen + pad(plainLen) + listLen + pad(listLen) > cursor.size) throw past();
    const lengthBytes = await cursor.take(8 * count);
    const lengths = Array.from({ length: count }, (_, k) => lengthBytes.readDoubleLE(8 * k));
    let listed: SavedElement[] = [];
    if (listLen) {
      try {
        // Memory of its own: the typed arrays V8 deserializes are views into it.
        listed = deserialize(await cursor.take(listLen, true)) as SavedElement[];
      } catch (err) {
        throw corrupt(`${where} can't be read (${(err as Error).message})`);
      }
      if (!Array.isArray(listed)) throw corrupt(`${where} is not a list of elements`);
      await cursor.take(pad(listLen));
    }
    const segments: Buffer[] = [];
    for (const n of lengths) {
      if (!Number.isInteger(n) || n < 0 || cursor.at + n + pad(n) > cursor.size) throw corrupt(`the typed arrays of ${where} run past the end of the file`);
      segments.push(await cursor.take(n, true));
      await cursor.take(pad(n));
    }
    if (cursor.at + plainLen > cursor.size) throw past();
    // Kept until its elements are installed, so in memory of its own (8-aligned: typed views fit it).
    const plain = await cursor.take(plainLen, true);
    const made = new Map();
    try {
      for (const el of listed) el.s = restoreBinary(el.s, segments, made);
      new PlainFrame(plain, segments, listed).scan(records, out);
    } catch (err) {
      throw corrupt(`${where}: ${(err as Error).message}`);
    }
    await cursor.take(pad(plainLen));
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
  } catch (err) {
    throw new CharmError(await whyNoManifest(dir, (err as NodeJS.ErrnoException).code));
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

/** Why `dir` has no manifest to read, for the error: not there at all, not a directory, not readable, or a checkpoint never finished. */
async function whyNoManifest(dir: string, code: string | undefined): Promise<string> {
  const kind = await stat(dir).then((st) => (st.isDirectory() ? "directory" : "file"), () => "nothing");
  if (kind === "nothing") return `there is no checkpoint directory ${dir}`;
  if (kind === "file") return `${dir} is a file, not a checkpoint directory (charm.checkpoint(dir) makes a directory)`;
  if (code === "EACCES" || code === "EPERM") return `${join(dir, MANIFEST)} can't be read (${code}): you may not read this checkpoint`;
  return `${dir} holds no complete checkpoint: ${MANIFEST} is missing (it is written last, once every PE's file is complete)`;
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
