// Entry-method calls through proxies: ret/awaitable, element and broadcast, plain and async;
// async interleaving; arguments copied, never aliased (Charm4Py #215); proxy identity.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future, type ElementProxy } from "../../runtime/index.ts";
import { Calc } from "./fixtures/calls.ts";

const fixtures = new URL("./fixtures/calls.ts", import.meta.url).href;

beforeAll(() => charm.start({ numPes: 2, modules: [fixtures] }));
afterAll(() => charm.shutdown());

describe("ret and awaitable", () => {
  it("element ret gives the return value, plain and async", async () => {
    const arr = charm.array(Calc, 4);
    expect(await arr.at(0).add.ret(1, 2)).toBe(3);
    expect(await arr.at(3).add.ret(1, 2)).toBe(303);
    expect(await arr.at(3).addLater.ret(4, 5)).toBe(309);
    const f = arr[2]!.addLater.ret(1, 1);
    expect(f).toBeInstanceOf(Future);
    expect(await f).toBe(202);
  });

  it("element awaitable resolves after the method (and an async method's await) finished", async () => {
    const arr = charm.array(Calc, 2);
    expect(await arr.at(1).touch.awaitable()).toBeUndefined();
    expect(await arr.at(1).touchLater.awaitable()).toBeUndefined();
    // awaitable of a value-returning method resolves with no value
    expect(await arr.at(1).add.awaitable(1, 2)).toBeUndefined();
    expect(await arr.at(1).getHits.ret()).toBe(3);
    expect(await arr.at(0).getHits.ret()).toBe(0);
  });

  it("broadcast ret gives every element's value ordered by index, plain and async", async () => {
    const arr = charm.array(Calc, 7);
    expect(await arr.add.ret(1, 1)).toEqual([2, 102, 202, 302, 402, 502, 602]);
    expect(await arr.addLater.ret(0, 1)).toEqual([1, 101, 201, 301, 401, 501, 601]);
    const where = await arr.where.ret();
    expect(where).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => [i, Math.floor((i * 2) / 7)]));
  });

  it("broadcast awaitable resolves once every element finished, plain and async", async () => {
    const arr = charm.array(Calc, 5);
    await arr.touch.awaitable();
    await arr.touchLater.awaitable();
    expect(await arr.getHits.ret()).toEqual([2, 2, 2, 2, 2]);
  });

  it("fire-and-forget calls run in order per sender", async () => {
    const arr = charm.array(Calc, 2);
    for (let i = 0; i < 100; i++) arr.at(1).keep(i);
    expect(await arr.at(1).kept.ret()).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("a call to the same chare is a message: it runs after the current entry method, never inside it", async () => {
    const arr = charm.array(Calc, 2);
    expect(await arr.at(1).outer.ret()).toEqual(["outer:start", "outer:end:pending"]);
    expect(await arr.at(1).getLog.ret()).toEqual(["outer:start", "outer:end:pending", "inner"]);
  });

  it("async entry methods interleave at await: the second call runs while the first awaits", async () => {
    const arr = charm.array(Calc, 2);
    for (const i of [0, 1]) {
      const first = arr.at(i).first.ret();
      const second = arr.at(i).second.awaitable();
      await second;
      expect(await first).toEqual(["first:start", "second", "first:end"]);
    }
  });
});

describe("arguments are copied, never aliased", () => {
  it("a same-PE and a cross-PE call see what was sent, not the sender's later changes", async () => {
    const arr = charm.array(Calc, 4); // elements 0,1 on PE 0; 2,3 on PE 1
    const expected = [
      [1, 2, 3],
      { type: "Float64Array", values: ["1.5", "2.5", "3.5"] },
      { list: [1, 2], inner: { typed: { type: "Int32Array", values: ["7", "8"] } } },
    ];
    await arr.at(0).sendAndMutate.ret(arr.at(1)); // same PE
    await arr.at(0).sendAndMutate.ret(arr.at(2)); // other PE
    await charm.waitQD();
    const norm = (kept: unknown[]) => kept.map((k) => (k && typeof k === "object" && "inner" in (k as object) ? { ...(k as any), inner: { typed: describeTyped((k as any).inner.typed) } } : k));
    expect(norm(await arr.at(1).kept.ret())).toEqual(expected);
    expect(norm(await arr.at(2).kept.ret())).toEqual(expected);
  });

  it("the driver mutating an argument right after sending doesn't change what arrives", async () => {
    const arr = charm.array(Calc, 2);
    const plain = [1, 2, 3];
    const typed = new Uint16Array([10, 20, 30]);
    arr.at(1).keep(plain);
    arr.at(1).keep(typed);
    plain[0] = 99;
    typed[0] = 99;
    // the sender keeps its typed array (copied, not transferred away)
    expect(typed.length).toBe(3);
    expect(await arr.at(1).kept.ret()).toEqual([[1, 2, 3], { type: "Uint16Array", values: ["10", "20", "30"] }]);
  });

  it("typed arrays arrive as the same type with the same contents", async () => {
    const arr = charm.array(Calc, 2);
    const samples: ArrayBufferView[] = [
      new Float64Array([1.25, -2, Number.MAX_VALUE]),
      new Float32Array([0.5, 3]),
      new Int8Array([-128, 127]),
      new Uint8Array([0, 255]),
      new Uint8ClampedArray([0, 255]),
      new Int16Array([-5, 5]),
      new Uint32Array([4294967295]),
      new Int32Array([-2147483648]),
      new BigInt64Array([-(2n ** 63n), 5n]),
      new BigUint64Array([2n ** 64n - 1n]),
      new Float64Array(new ArrayBuffer(64), 16, 2), // a view into a larger buffer
    ];
    for (const pe of [0, 1]) {
      for (const s of samples) {
        const got = await arr.at(pe).describe.ret(s);
        expect(got).toEqual({ type: s.constructor.name, values: Array.from(s as unknown as ArrayLike<number>, (x) => String(x)) });
      }
    }
  });

  it("large typed arrays, DataViews, ArrayBuffers and unaligned views arrive intact, small and large", async () => {
    const arr = charm.array(Calc, 2);
    const checksum = (v: ArrayBufferView | ArrayBuffer) => {
      const u8 = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      let sum = 0;
      for (let i = 0; i < u8.length; i++) sum = (sum * 31 + u8[i]!) >>> 0;
      return { type: v.constructor.name, byteLength: v.byteLength, sum };
    };
    for (const n of [5, 4096, 1 << 17]) {
      const big = new Float64Array(n).map((_, i) => Math.sin(i));
      const buf = new ArrayBuffer(n * 2 + 11);
      new Uint8Array(buf).forEach((_, i, a) => (a[i] = (i * 7) & 255));
      const samples: Array<ArrayBufferView | ArrayBuffer> = [big, buf, new DataView(buf, 5, n), new Uint8Array(buf, 3, n), new Int16Array(buf, 2, n)];
      for (const pe of [0, 1]) {
        for (const s of samples) expect(await arr.at(pe).bytes.ret(s)).toEqual(checksum(s));
        const [f, view, whole, sub] = await arr.at(pe).makeBinary.ret(n);
        expect(f).toBeInstanceOf(Float64Array);
        expect(f.length).toBe(n);
        expect(f[n - 1]).toBe((n - 1) * 0.5);
        expect(view).toBeInstanceOf(DataView);
        expect(view.byteLength).toBe(n);
        expect(view.getUint8(n - 1)).toBe((n - 1) & 255);
        expect(whole).toBeInstanceOf(ArrayBuffer);
        expect(whole.byteLength).toBe(n + 16);
        expect(sub).toBeInstanceOf(Uint8Array);
        expect(sub.length).toBe(n);
        expect(sub[n - 1]).toBe(new Uint8Array(whole)[3 + n - 1]); // the view started at byte 3
      }
      // the sender's data is untouched (copied, not transferred away)
      expect(big.length).toBe(n);
      expect(buf.byteLength).toBe(n * 2 + 11);
    }
  });

  it("each element of a broadcast gets its own copy", async () => {
    const arr = charm.array(Calc, 6); // three elements per PE
    expect(await arr.mutateArg.ret([5, 6])).toEqual(Array.from({ length: 6 }, () => [5, 6]));
  });

  it("a return value reaching a same-PE caller is a copy, not the callee's state", async () => {
    const arr = charm.array(Calc, 4);
    expect(await arr.at(0).fetchAndMutate.ret(arr.at(1))).toEqual([1, 2, 3]); // same PE
    expect(await arr.at(0).fetchAndMutate.ret(arr.at(3))).toEqual([1, 2, 3]); // other PE
    expect(await arr.stateSum.ret()).toEqual([6, 6, 6, 6]);
  });
});

describe("proxies", () => {
  it("element proxies deliver only to their element", async () => {
    const arr = charm.array(Calc, 6);
    await arr.at(4).touch.awaitable();
    await arr[1]!.touch.awaitable();
    expect(await arr.getHits.ret()).toEqual([0, 1, 0, 0, 1, 0]);
  });

  it("the same element proxy obtained twice is ===; [i] is at(i)", () => {
    const arr = charm.array(Calc, 3);
    expect(arr.at(1)).toBe(arr.at(1));
    expect(arr[1]).toBe(arr.at(1));
    expect(arr.at(1)).not.toBe(arr.at(2));
    expect(arr.at(1).add).toBe(arr.at(1).add);
  });

  it("a proxy sent to a PE and back is === to the original on the driver", async () => {
    const arr = charm.array(Calc, 4);
    for (const i of [0, 3]) {
      expect(await arr.at(i).echoProxy.ret(arr.at(2))).toBe(arr.at(2));
      expect(await arr.at(i).echoProxy.ret(arr)).toBe(arr);
      expect(await arr.at(i).myCollection.ret()).toBe(arr);
    }
    // on the PE, the received proxy is the one the chare's own thisProxy gives
    expect(await arr.isMe.ret(arr.at(2))).toEqual([false, false, true, false]);
    const single = charm.chare(Calc, [], { onPe: 1 });
    expect(await single.echoProxy.ret(single)).toBe(single);
  });

  it("a singleton has one proxy object on its PE: the one that arrives, its thisProxy, the one charm.chare gave there", async () => {
    const single = charm.chare(Calc, [], { onPe: 1 });
    expect(await single.isMyself.ret(single)).toBe(true);
    expect(await single.createHereAndCompare.ret()).toBe(true);
    expect(await single.echoProxy.ret(single)).toBe(single);
  });

  it("a bound entry method can be sent in a message and called, or used as a reduction target, there", async () => {
    const arr = charm.array(Calc, 4);
    await arr.at(3).callBack.awaitable(arr.at(0).keep, "from PE 1");
    await arr.at(1).callBack.awaitable(arr.at(0).keep, "from PE 0");
    await charm.waitQD();
    expect(((await arr.at(0).kept.ret()) as string[]).sort()).toEqual(["from PE 0", "from PE 1"]); // two senders: no order between them
    arr.reduceTo(arr.at(2).keep);
    await charm.waitQD();
    expect(await arr.at(2).kept.ret()).toEqual([6]);
    expect(await arr.sameCallback.ret(arr.at(0).keep)).toEqual([true, true, true, true]);
    expect(await arr.at(1).echoProxy.ret(arr.at(0).keep)).toBe(arr.at(0).keep);
    // plain functions still can't cross
    expect(() => arr.at(1).callBack(() => 1, 0)).toThrow(/args\[0\] is a function/);
  });

  it("proxies work as Map keys, on the driver and on PEs", async () => {
    const arr = charm.array(Calc, 4);
    const list: ElementProxy<Calc>[] = [arr.at(0), arr.at(3), arr.at(0), arr.at(2), arr.at(3), arr.at(0)];
    const counted = await arr.at(2).countByProxy.ret(list);
    const back = new Map(counted);
    expect(back.size).toBe(3);
    expect(back.get(arr.at(0))).toBe(3);
    expect(back.get(arr.at(3))).toBe(2);
    expect(back.get(arr.at(2))).toBe(1);
    const local = new Map<unknown, string>([[arr.at(1), "one"], [arr, "all"]]);
    expect(local.get(await arr.at(0).echoProxy.ret(arr.at(1)))).toBe("one");
    expect(local.get(await arr.at(1).myCollection.ret())).toBe("all");
  });
});

function describeTyped(v: unknown): unknown {
  return ArrayBuffer.isView(v) ? { type: v.constructor.name, values: Array.from(v as unknown as ArrayLike<number>, (x) => String(x)) } : v;
}
