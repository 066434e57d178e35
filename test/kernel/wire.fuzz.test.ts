// The frame decoder under arbitrary input: it never throws, accepts exactly the correctly signed
// messages, and drops forged and replayed ones.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Signer } from "../../kernel/protocol/signer.ts";
import { decodeFrames, encodeFrames } from "../../kernel/protocol/wire.ts";

const KEY = "a0b1c2d3-secret";
const DELIM = Buffer.from("<IDS|MSG>");

function signed(signer: Signer, content: unknown, msgId = "m1", identities = [Buffer.from("peer")]): Buffer[] {
  return encodeFrames(
    {
      identities,
      header: { msg_id: msgId, session: "s", username: "u", date: "2024-01-01T00:00:00.000Z", msg_type: "execute_request", version: "5.3" },
      parent_header: {},
      metadata: {},
      content,
    },
    signer,
  );
}

const frame = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.constant(DELIM),
  fc.json().map((j) => Buffer.from(j)),
  fc.string().map((s) => Buffer.from(s)),
);

describe("decodeFrames", () => {
  it("never throws on arbitrary frames, and accepts none of them when a key is set", () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 10 }), (frames) => {
        const d = decodeFrames(frames, new Signer(KEY));
        expect(d.ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on arbitrary frames without a key", () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 10 }), (frames) => {
        decodeFrames(frames, new Signer(""));
      }),
      { numRuns: 2000 },
    );
  });

  it("decodes any signed JSON content, keeping identities and buffers", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.uint8Array(), (content, buf) => {
        const signer = new Signer(KEY);
        const frames = [...signed(signer, content, `id-${Math.random()}`), Buffer.from(buf)];
        const d = decodeFrames(frames, new Signer(KEY));
        expect(d.ok).toBe(true);
        if (d.ok) {
          expect(d.message.type).toBe("execute_request");
          expect(d.message.identities).toEqual([Buffer.from("peer")]);
          expect(d.message.buffers).toEqual([Buffer.from(buf)]);
          expect(d.message.content).toEqual(JSON.parse(JSON.stringify(content)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("drops a message whose any byte after the delimiter was changed", () => {
    const base = signed(new Signer(KEY), { code: "1+1" });
    const at = base.findIndex((f) => f.equals(DELIM));
    fc.assert(
      fc.property(fc.integer({ min: at + 1, max: at + 5 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (fi, bi, x) => {
        const frames = base.map((f) => Buffer.from(f));
        const f = frames[fi]!;
        if (f.length === 0) return;
        f[bi % f.length]! ^= x;
        const d = decodeFrames(frames, new Signer(KEY));
        expect(d.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("drops messages signed with another key, and a replay of an accepted one", () => {
    const receiver = new Signer(KEY);
    const forged = decodeFrames(signed(new Signer("guess"), { code: "x" }), receiver);
    expect(forged).toEqual({ ok: false, reason: "invalid signature" });
    const good = signed(new Signer(KEY), { code: "x" });
    expect(decodeFrames(good, receiver).ok).toBe(true);
    expect(decodeFrames(good, receiver)).toEqual({ ok: false, reason: "replayed signature" });
  });

  it("never reveals the expected signature in its reason", () => {
    const msg = signed(new Signer("other"), { code: "x" });
    const expected = new Signer(KEY).sign(msg.slice(3, 7));
    const d = decodeFrames(msg, new Signer(KEY));
    expect(JSON.stringify(d)).not.toContain(expected);
  });

  it("with an empty key, unsigned messages are accepted", () => {
    const d = decodeFrames(signed(new Signer(""), { code: "x" }), new Signer(""));
    expect(d.ok).toBe(true);
  });

  it("rejects signed frames whose JSON is not the expected shape", () => {
    const s = new Signer(KEY);
    const parts = ["[1]", "{}", "{}", "{}"].map((p) => Buffer.from(p));
    const frames = [DELIM, Buffer.from(s.sign(parts)), ...parts];
    expect(decodeFrames(frames, new Signer(KEY))).toEqual({ ok: false, reason: "header lacks msg_id, msg_type or session" });
  });
});
