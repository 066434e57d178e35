// Message authentication (spec: "The Wire Protocol"): HMAC over the four JSON frames exactly as
// received, compared in constant time before anything is parsed, plus a replay guard.
import { createHmac, timingSafeEqual } from "node:crypto";

/** Why a signature was refused; never contains the expected value (it would hand an attacker the signature). */
export type SignatureVerdict = "ok" | "bad-signature" | "replayed";

// ipykernel keeps 2^16 digests; a replay older than that window is no longer detected.
const REPLAY_WINDOW = 1 << 16;

/** Signs outgoing messages and verifies incoming ones with the connection file's key. */
export class Signer {
  private readonly key: Buffer;
  private readonly scheme: string;
  // Insertion-ordered, so the oldest digest is dropped first when the window is full.
  private readonly seen = new Set<string>();

  constructor(key: string, signatureScheme = "hmac-sha256") {
    this.key = Buffer.from(key, "utf8");
    if (!/^hmac-sha256$/.test(signatureScheme)) {
      throw new Error(`signature_scheme "${signatureScheme}" is not supported; use "hmac-sha256"`);
    }
    this.scheme = "sha256";
  }

  /** An empty key in the connection file means messages are neither signed nor checked. */
  get enabled(): boolean {
    return this.key.length > 0;
  }

  /** Hex HMAC of the header, parent header, metadata and content frames ("" when unsigned). */
  sign(parts: readonly Uint8Array[]): string {
    if (!this.enabled) return "";
    const hmac = createHmac(this.scheme, this.key);
    for (const p of parts) hmac.update(p);
    return hmac.digest("hex");
  }

  /** Checks a received signature against the received bytes, then records it against replay. */
  verify(signature: Uint8Array, parts: readonly Uint8Array[]): SignatureVerdict {
    if (!this.enabled) return "ok";
    const expected = Buffer.from(this.sign(parts), "ascii");
    // timingSafeEqual needs equal lengths; a length mismatch reveals only the (public) length.
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return "bad-signature";
    const digest = Buffer.from(signature).toString("ascii");
    if (this.seen.has(digest)) return "replayed";
    this.seen.add(digest);
    if (this.seen.size > REPLAY_WINDOW) this.seen.delete(this.seen.values().next().value as string);
    return "ok";
  }
}
