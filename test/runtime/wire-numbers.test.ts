// The per-turn batch format hands numbers on as small integers where it can (so fields stay
// unboxed); every number must still arrive as the same value: -0, fractions, NaN, ids past 2^31.
import { describe, expect, it } from "vitest";
import { WireReader, WireWriter } from "../../runtime/transport/wire.ts";
import type { Message } from "../../runtime/protocol/messages.ts";

function roundTrip(msgs: Message[]): Message[] {
  const writer = new WireWriter();
  for (const m of msgs) writer.write(m);
  const out: Message[] = [];
  new WireReader().read(writer.take()!, (m) => out.push(m));
  return out;
}

const values = [0, -0, 1, -1, 0.5, -2.25, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 45 + 3, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity];

describe("wire numbers", () => {
  it("every argument, id and index arrives as the same number (Object.is)", () => {
    const big = 2 ** 45 + 7;
    const sent: Message[] = [
      { t: "invoke", to: { cid: big as any, cls: "C", kind: "single", pe: 1, idx: [0] }, m: "m", a: values, reply: { fid: (2 ** 33 + 5) as any, mode: "value" } },
      { t: "invoke", to: { cid: 9 as any, cls: "C", kind: "group", idx: [-0] }, m: "m", a: [{ $charm: "proxy", cid: 2 ** 40, cls: "C", kind: "single", pe: 0, idx: [0] }], r: 1 },
      { t: "create", ref: { cid: big as any, cls: "C", kind: "single", pe: 0 }, a: [-0, 3], idx: [0] },
      { t: "resolve", fid: 17 as any, v: -0 },
      { t: "resolve", fid: (2 ** 40) as any, v: 0.1 },
    ];
    const got = roundTrip(sent);
    expect(got.length).toBe(sent.length);
    const inv = got[0] as Extract<Message, { t: "invoke" }>;
    inv.a.forEach((v, i) => expect(Object.is(v, values[i]), `args[${i}] ${String(v)} vs ${String(values[i])}`).toBe(true));
    expect(inv.to.cid).toBe(big);
    expect(inv.reply!.fid).toBe(2 ** 33 + 5);
    expect(Object.is((got[1] as any).to.idx[0], -0)).toBe(true);
    expect((got[1] as any).a[0].cid).toBe(2 ** 40);
    expect(Object.is((got[2] as any).a[0], -0)).toBe(true);
    expect((got[2] as any).ref).toEqual({ cid: big, cls: "C", kind: "single", pe: 0 });
    expect(Object.is((got[3] as any).v, -0)).toBe(true);
    expect((got[4] as any).fid).toBe(2 ** 40);
    expect((got[4] as any).v).toBe(0.1);
  });

  it("a ref arrives with exactly the fields it was sent with", () => {
    const [single, group] = roundTrip([
      { t: "invoke", to: { cid: 3 as any, cls: "C", kind: "single", pe: 1, idx: [0] }, m: "m", a: [] },
      { t: "invoke", to: { cid: 4 as any, cls: "G", kind: "group", idx: [1] }, m: "m", a: [] },
    ]) as Array<Extract<Message, { t: "invoke" }>>;
    expect(Object.keys(single!.to)).toEqual(["cid", "cls", "kind", "pe", "idx"]);
    expect(Object.keys(group!.to)).toEqual(["cid", "cls", "kind", "idx"]);
  });
});
