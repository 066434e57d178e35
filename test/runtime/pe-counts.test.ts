// The same core behaviours on 1 PE (everything same-PE: Charm4Py's pool needed 2) and on 3 PEs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future, Reducer } from "../../runtime/index.ts";
import { FibChare } from "./fixtures/fib.ts";
import { Calc } from "./fixtures/calls.ts";
import { Red } from "./fixtures/reductions.ts";
import { Pipe, Cascade } from "./fixtures/channels.ts";

const modules = ["./fixtures/fib.ts", "./fixtures/calls.ts", "./fixtures/reductions.ts", "./fixtures/channels.ts"].map((m) => new URL(m, import.meta.url).href);

describe.each([1, 3])("on %i PE(s)", (numPes) => {
  beforeAll(() => charm.start({ numPes, modules }));
  afterAll(() => charm.shutdown());

  it("reports its PE count", () => {
    expect(charm.numPes()).toBe(numPes);
    expect(charm.myPe()).toBe(-1);
  });

  it("Fib(16) with one singleton chare per call", async () => {
    const done = new Future<number>();
    charm.chare(FibChare, [16, done, true]);
    expect(await done).toBe(987);
  });

  it("ret, awaitable and broadcasts; arguments copied", async () => {
    const arr = charm.array(Calc, 5);
    expect(await arr.at(4).add.ret(1, 1)).toBe(402);
    await arr.touch.awaitable();
    expect(await arr.getHits.ret()).toEqual([1, 1, 1, 1, 2]); // element 4 also ran add
    expect(await arr.where.ret()).toEqual([0, 1, 2, 3, 4].map((i) => [i, Math.floor((i * numPes) / 5)]));
    await arr.at(0).sendAndMutate.ret(arr.at(4));
    await charm.waitQD();
    expect((await arr.at(4).kept.ret()).slice(0, 2)).toEqual([[1, 2, 3], { type: "Float64Array", values: ["1.5", "2.5", "3.5"] }]);
  });

  it("reductions to every target kind, and allreduce", async () => {
    for (const target of ["future", "element", "broadcast"] as const) {
      const arr = charm.array(Red, 6);
      const report = new Future<unknown>(target === "broadcast" ? 6 : 1);
      arr.contrib(Reducer.sum, "scalar", target, report);
      const got = await report;
      if (target === "future") expect(got).toBe(21);
      else if (target === "element") expect(got).toEqual([0, [21]]);
      else expect(got).toHaveLength(6);
    }
    expect(await charm.array(Red, 4).allSum.ret(1)).toEqual([10, 10, 10, 10]);
    expect(await charm.group(Red).allSum.ret(0)).toEqual(Array(numPes).fill((numPes * (numPes - 1)) / 2));
  });

  it("channels in order and quiescence", async () => {
    const pipes = charm.array(Pipe, 2);
    const received = pipes.at(1).recvAll.ret(pipes.at(0), 1000, 0);
    pipes.at(0).sendAll(pipes.at(1), 1000, 0);
    expect(await received).toEqual([0, (1000 * 999) / 2]);
    const cascade = charm.array(Cascade, 5);
    cascade.at(0).spread(8, 5);
    await charm.waitQD();
    expect((await cascade.getHits.ret()).reduce((a, b) => a + b, 0)).toBe(2 ** 9 - 1);
  });
});
