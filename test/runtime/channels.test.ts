// Channels (in order, to self, a random graph) and quiescence detection with several target kinds.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { charm, Future } from "../../runtime/index.ts";
import { Cascade, Pipe } from "./fixtures/channels.ts";
import { TRANSPORTS, over } from "./transports.ts";

const fixtures = new URL("./fixtures/channels.ts", import.meta.url).href;

describe.each(TRANSPORTS)("over %s", (transport) => {
  beforeAll(() => charm.start({ numPes: 2, modules: [fixtures], ...over(transport) }));
  afterAll(() => charm.shutdown());

  describe("channels", () => {
    it("delivers 5,000 messages in order between chares on different PEs", async () => {
      const arr = charm.array(Pipe, 2); // element 0 on PE 0, element 1 on PE 1
      const received = arr.at(1).recvAll.ret(arr.at(0), 5000, 0);
      arr.at(0).sendAll(arr.at(1), 5000, 0);
      expect(await received).toEqual([0, (5000 * 4999) / 2]);
      // both directions at once, receiver started after the sender this time
      arr.at(1).sendAll(arr.at(0), 5000, 1);
      arr.at(0).sendAll(arr.at(1), 5000, 1);
      expect(await Promise.all([arr.at(0).recvAll.ret(arr.at(1), 5000, 1), arr.at(1).recvAll.ret(arr.at(0), 5000, 1)])).toEqual([
        [0, (5000 * 4999) / 2],
        [0, (5000 * 4999) / 2],
      ]);
    });

    it("a channel to self delivers in order and copies", async () => {
      const arr = charm.array(Pipe, 2);
      expect(await arr.selfChannel.ret(false)).toEqual(Array(2).fill(["a", [1, 2], "Float64Array", { n: 3 }]));
      const single = charm.chare(Pipe, [], { onPe: 1 });
      expect(await single.selfChannel.ret(true)).toEqual(["a", [1, 2], "Float64Array", { n: 3 }]);
    });

    it("a random channel graph: every chare receives exactly what its neighbours sent", async () => {
      const n = 7;
      const arr = charm.array(Pipe, n);
      let port = 100;
      const edge = fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 }), fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 40 }));
      await fc.assert(
        fc.asyncProperty(fc.array(edge, { minLength: 1, maxLength: 25 }), async (edges) => {
          port++;
          // one list of values per directed pair (self edges included); merge duplicate edges
          const sends = new Map<string, number[]>();
          for (const [a, b, values] of edges) sends.set(`${a}>${b}`, [...(sends.get(`${a}>${b}`) ?? []), ...values]);
          const plans = Array.from({ length: n }, () => ({ send: [] as Array<[number, number[]]>, recv: [] as Array<[number, number]> }));
          const want = new Array<number>(n).fill(0);
          for (const [key, values] of sends) {
            const [a, b] = key.split(">").map(Number) as [number, number];
            plans[a]!.send.push([b, values]);
            plans[b]!.recv.push([a, values.length]);
            want[b]! += values.reduce((x, y) => x + y, 0);
          }
          const sums = await Promise.all(plans.map((plan, i) => arr.at(i).exchange.ret(plan, port)));
          expect(sums).toEqual(want);
        }),
        { numRuns: 25, seed: 4242 },
      );
    });
  });

  describe("quiescence detection", () => {
    const cascadeHits = (depth: number) => 2 ** (depth + 1) - 1;

    it("charm.waitQD() returns once a fire-and-forget cascade has finished", async () => {
      const n = 10;
      const arr = charm.array(Cascade, n);
      arr.at(0).spread(10, n);
      await charm.waitQD();
      const hits = await arr.getHits.ret();
      expect(hits.reduce((a, b) => a + b, 0)).toBe(cascadeHits(10));
      // with timers in between (async entry methods sleeping)
      arr.at(3).spreadLater(20, n);
      await charm.waitQD();
      expect((await arr.getHits.ret()).reduce((a, b) => a + b, 0)).toBe(cascadeHits(10) + 21);
    });

    it("charm.startQD(future) resolves the future at quiescence", async () => {
      const n = 6;
      const arr = charm.array(Cascade, n);
      arr.at(1).spread(9, n);
      const qd = new Future<void>();
      charm.startQD(qd);
      await qd;
      expect((await arr.getHits.ret()).reduce((a, b) => a + b, 0)).toBe(cascadeHits(9));
    });

    it("charm.startQD(proxy.at(0).method) calls the entry method at quiescence", async () => {
      const n = 4;
      const arr = charm.array(Cascade, n);
      const report = new Future<number>();
      await arr.at(0).armQd.awaitable(report);
      arr.at(2).spread(8, n);
      charm.startQD(arr.at(0).qdReached);
      const seenByElement0 = await report;
      const hits = await arr.getHits.ret();
      expect(hits.reduce((a, b) => a + b, 0)).toBe(cascadeHits(8));
      expect(seenByElement0).toBe(hits[0]);
    });

    it("charm.startQD(proxy.method) broadcasts to every element at quiescence", async () => {
      const n = 4;
      const arr = charm.array(Cascade, n);
      const report = new Future<number[]>(n);
      await arr.armQd.awaitable(report as unknown as Future<number>);
      arr.at(1).spread(6, n);
      charm.startQD(arr.qdReached);
      const perElement = await report;
      expect(perElement.reduce((a, b) => a + b, 0)).toBe(cascadeHits(6));
    });

    it("QD requested from a PE: startQD with an entry-method target, and waitQD inside an async entry method", async () => {
      const n = 5;
      const arr = charm.array(Cascade, n);
      const report = new Future<number>();
      await arr.at(0).armQd.awaitable(report);
      arr.at(0).spread(7, n);
      arr.at(4).startQDHere();
      await report;
      expect((await arr.getHits.ret()).reduce((a, b) => a + b, 0)).toBe(cascadeHits(7));
      const before = (await arr.getHits.ret()).reduce((a, b) => a + b, 0);
      expect(await arr.at(3).cascadeThenWaitQD.ret(6, n)).toBe("quiet");
      expect((await arr.getHits.ret()).reduce((a, b) => a + b, 0)).toBe(before + cascadeHits(6));
    });

    it("waitQD with nothing happening returns", async () => {
      await charm.waitQD();
      await charm.waitQD();
    });
  });
});
