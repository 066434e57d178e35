// A batch's counts (arguments, index length) come from the other end of a stream: a count larger
// than the words left can only be a corrupt or hostile batch, and is refused at once, before a
// loop over it or an array of its length (a count of 2^31 once meant billions of turns).
import { describe, expect, it } from "vitest";
import { WireReader, WireWriter } from "../../runtime/transport/wire.ts";
import type { Message } from "../../runtime/protocol/messages.ts";

/** The batch `msg` makes, with the word at `offset` words after its first word equal to `from` changed to `to`. */
function tampered(msg: Message, offset: number, from: number, to: number): { w: Float64Array; x: unknown[] } {
  const writer = new WireWriter();
  writer.write(msg);
  const batch = writer.take()!;
  const words = Array.from(batch.w);
  const at = words.findIndex((v, i) => i >= offset && v === from);
  expect(at, `word ${from} after ${offset}`).toBeGreaterThanOrEqual(offset);
  words[at] = to;
  return { w: new Float64Array(words), x: batch.x };
}

const call: Message = { t: "invoke", to: { cid: 5 as any, cls: "C", kind: "group", idx: [1] }, m: "m", a: [7, 8, 9] };
const create: Message = { t: "create", ref: { cid: 5 as any, cls: "C", kind: "single", pe: 0 }, a: [7, 8, 9], idx: [0] };

describe("wire: counts from the other end are checked", () => {
  it("an untouched batch reads back (the tampering below changes one word only)", () => {
    for (const msg of [call, create]) {
      const writer = new WireWriter();
      writer.write(msg);
      const got: Message[] = [];
      new WireReader().read(writer.take()!, (m) => got.push(m));
      expect(got).toHaveLength(1);
      expect((got[0] as { a: unknown[] }).a).toEqual([7, 8, 9]);
    }
  });

  for (const [name, msg] of [["a call's", call], ["a creation's", create]] as const) {
    it(`${name} argument count past the batch's end is refused at once`, () => {
      const batch = tampered(msg, 3, 3, 2 ** 31); // the count of 3 arguments
      expect(() => new WireReader().read(batch, () => undefined)).toThrow(/corrupt message batch \(a count of 2147483648 with \d+ words left\)/);
    });
  }

  it("an index length past the batch's end is refused at once", () => {
    const words = Array.from(tampered(call, 0, 5, 5).w); // untouched: the cid (5) is written as itself
    const op = words.indexOf(5) - 1; // an inline call: op, cid, class, kind, pe, index length, index…
    expect(words[op + 5]).toBe(1);
    const batch = tampered(call, op + 5, 1, 2 ** 30);
    expect(() => new WireReader().read(batch, () => undefined)).toThrow(/corrupt message batch \(a count of 1073741824/);
  });
});
