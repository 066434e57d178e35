// Frames ↔ messages (spec: "The Wire Protocol"):
//   [identities…, "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers…]
// Decoding verifies the signature over the received bytes first and parses JSON only after;
// it never throws, so a malformed frame can't take down a socket loop.
import { isKnownType, type Header, type Incoming, type Outgoing } from "./messages.ts";
import type { Signer } from "./signer.ts";

const DELIMITER = Buffer.from("<IDS|MSG>", "ascii");

/** The outcome of decoding one multipart message. */
export type Decoded = { ok: true; message: Incoming } | { ok: false; reason: string };

/** Turns received frames into a typed message, or a reason it was dropped. */
export function decodeFrames(frames: readonly Uint8Array[], signer: Signer): Decoded {
  const at = frames.findIndex((f) => Buffer.compare(f, DELIMITER) === 0);
  if (at < 0) return { ok: false, reason: "no <IDS|MSG> delimiter" };
  if (frames.length < at + 6) return { ok: false, reason: "fewer than 5 frames after the delimiter" };
  const [signature, ...rest] = frames.slice(at + 1);
  const parts = rest.slice(0, 4);
  const verdict = signer.verify(signature!, parts);
  if (verdict !== "ok") return { ok: false, reason: verdict === "replayed" ? "replayed signature" : "invalid signature" };
  let header: unknown, parent: unknown, metadata: unknown, content: unknown;
  try {
    [header, parent, metadata, content] = parts.map((p) => JSON.parse(Buffer.from(p).toString("utf8")));
  } catch {
    return { ok: false, reason: "a JSON frame does not parse" };
  }
  if (!isHeader(header)) return { ok: false, reason: "header lacks msg_id, msg_type or session" };
  if (!isObject(parent) || !isObject(metadata) || !isObject(content)) {
    return { ok: false, reason: "parent_header, metadata and content must be objects" };
  }
  const envelope = {
    identities: frames.slice(0, at).map((f) => Buffer.from(f)),
    header,
    parent_header: parent,
    metadata,
    buffers: rest.slice(4).map((f) => Buffer.from(f)),
  };
  const type = isKnownType(header.msg_type) ? header.msg_type : "unknown";
  // The content's fields are checked by the handler that reads them; only the shape is known here.
  return { ok: true, message: { ...envelope, type, content } as Incoming };
}

/** Turns a message into frames, signing the four JSON parts. */
export function encodeFrames(message: Outgoing, signer: Signer): Buffer[] {
  const parts = [message.header, message.parent_header, message.metadata, message.content].map((p) =>
    Buffer.from(JSON.stringify(p), "utf8"),
  );
  return [
    ...message.identities,
    DELIMITER,
    Buffer.from(signer.sign(parts), "ascii"),
    ...parts,
    ...(message.buffers ?? []),
  ];
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isHeader(x: unknown): x is Header {
  return (
    isObject(x) && typeof x.msg_id === "string" && typeof x.msg_type === "string" && typeof x.session === "string"
  );
}
