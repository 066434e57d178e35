// Channels (in order, to self, a random graph) and quiescence detection with several target
// kinds, over every transport on 2 and 5 PEs (threads and processes on 3 too).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { charm, Future } from "../../runtime/index.ts";
import { Cascade, Pipe } from "./fixtures/channels.ts";
import { TRANSPORTS, over, type TransportName } from "./transports.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { blockPe } from "./indices.ts";

const fixtures = new URL("./fixtures/channels.ts", import.meta.url).href;

/** A wait that fails after 10 s naming what it waited for and what each PE holds, instead of a vitest timeout. */
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 10_000, what, runtimeState);

// Every transport on 2 and 5 PEs, threads and processes on 3 too: starting PE processes is what
// costs here (about 2 s a runtime), not the tests.
const peCounts = (transport: TransportName): number[] => (transport === "threads" || transport === "processes" ? [2, 3, 5] : [2, 5]);
const cases = TRANSPORTS.flatMap((transport) => peCounts(transport).map((numPes) => [transport, numPes] as const));

describe.each(cases)("over %s on %i PEs", (transport, numPes) => {
  beforeAll(() => charm.start({ numPes, modules: [fixtures], ...over(transport) }));
  afterAll(() => charm.shutdown());

  describe("channels", () => {
    it("delivers 5,000 messages in order between chares on different PEs", async () => {
      const arr = charm.array(Pipe, 2);
      expect(blockPe(1, 2, numPes)).not.toBe(0); // element 0 on PE 0, element 1 on another
      const received = arr.at(1).recvAll.ret(arr.at(0), 5000, 0);
      arr.at(0).sendAll(arr.at(1), 5000, 0);
      expect(await waitFor(received, "Pipe[1] to receive 5,000 values from Pipe[0]")).toEqual([0, (5000 * 4999) / 2]);
      // both directions at once, receiver started after the sender this time
      arr.at(1).sendAll(arr.at(0), 5000, 1);
      arr.at(0).sendAll(arr.at(1), 5000, 1);
      const both = Promise.all([arr.at(0).recvAll.ret(arr.at(1), 5000, 1), arr.at(1).recvAll.ret(arr.at(0), 5000, 1)]);
      expect(await waitFor(both, "Pipe[0] and Pipe[1] to receive 5,000 values from each other")).toEqual([
        [0, (5000 * 4999) / 2],
        [0, (5000 * 4999) / 2],
      ]);
    });

    it("a channel to self delivers in order and copies", async () => {
      const arr = charm.array(Pipe, 2);
      expect(await waitFor(arr.selfChannel.ret(false), "the Pipes' channels to themselves")).toEqual(Array(2).fill(["a", [1, 2], "Float64Array", { n: 3 }]));
      const single = charm.chare(Pipe, [], { onPe: numPes - 1 });
      expect(await waitFor(single.selfChannel.ret(true), "a singleton's channel to itself")).toEqual(["a", [1, 2], "Float64Array", { n: 3 }]);
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
          const sums = await waitFor(Promise.all(plans.map((plan, i) => arr.at(i).exchange.ret(plan, port))), `the channel graph on port ${port} (${JSON.stringify(plans)})`);
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
      await waitFor(charm.waitQD(), "quiescence after a cascade of depth 10");
      const hits = await arr.getHits.ret();
      expect(hits.reduce((a, b) => a + b, 0)).toBe(cascadeHits(10));
      // with timers in between (async entry methods sleeping)
      arr.at(3).spreadLater(20, n);
      await waitFor(charm.waitQD(), "quiescence after a cascade with sleeps");
      expect((await arr.getHits.ret()).reduce((a, b) => a + b, 0)).toBe(cascadeHits(10) + 21);
    });

    it("charm.startQD(future) resolves the future at quiescence", async () => {
      const n = 6;
      const arr = charm.array(Cascade, n);
      arr.at(1).spread(9, n);
      const qd = new Future<void>();
      charm.startQD(qd);
      await waitFor(qd, "startQD's future");
      expect((await arr.getHits.ret()).reduce((a, b) => a + b, 0)).toBe(cascadeHits(9));
    });

    it("charm.startQD(proxy.at(0).method) calls the entry method at quiescence", async () => {
      const n = 4;
      const arr = charm.array(Cascade, n);
      const report = new Future<number>();
      await arr.at(0).armQd.awaitable(report);
      arr.at(2).spread(8, n);
      charm.startQD(arr.at(0).qdReached);
      const seenByElement0 = await waitFor(report, "Cascade[0].qdReached called at quiescence");
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
      const perElement = await waitFor(report, `qdReached broadcast to ${n} Cascades at quiescence`);
      expect(perElement.reduce((a, b) => a + b, 0)).toBe(cascadeHits(6));
    });

    it("QD requested from a PE: startQD with an entry-method target, and waitQD inside an async entry method", async () => {
      const n = 5;
      const arr = charm.array(Cascade, n);
      const report = new Future<number>();
      await arr.at(0).armQd.awaitable(report);
      arr.at(0).spread(7, n);
      arr.at(4).startQDHere();
      await waitFor(report, "quiescence requested by Cascade[4]");
      expect((await arr.getHits.ret()).reduce((a, b) => a + b, 0)).toBe(cascadeHits(7));
      const before = (await arr.getHits.ret()).reduce((a, b) => a + b, 0);
      expect(await waitFor(arr.at(3).cascadeThenWaitQD.ret(6, n), "charm.waitQD() inside Cascade[3]")).toBe("quiet");
      expect((await arr.getHits.ret()).reduce((a, b) => a + b, 0)).toBe(before + cascadeHits(6));
    });

    it("waitQD with nothing happening returns", async () => {
      await waitFor(charm.waitQD(), "quiescence with nothing happening");
      await waitFor(charm.waitQD(), "quiescence again with nothing happening");
    });
  });
});
