// Work started from PEs: collections created on a PE, futures homed on a PE resolved by the
// driver, broadcasts from a PE; reductions whose data is bad fail their future, not the runtime.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future, RemoteError } from "../../runtime/index.ts";
import { Leaf, Maker } from "./fixtures/nested.ts";

const fixtures = new URL("./fixtures/nested.ts", import.meta.url).href;

beforeAll(() => charm.start({ numPes: 2, modules: [fixtures] }));
afterAll(() => charm.shutdown());

describe("work started from PEs", () => {
  it("an array created on a PE is usable from the driver and from other PEs", async () => {
    const makers = charm.array(Maker, 2);
    const { proxy } = await makers.at(1).makeArray.ret(4, "made on PE 1");
    expect(await proxy.where.ret()).toEqual([0, 1, 2, 3].map((i) => ["made on PE 1", i, Math.floor(i / 2)]));
    expect(await makers.at(0).askAll.ret(proxy)).toEqual([0, 1, 2, 3].map((i) => ["made on PE 1", i, Math.floor(i / 2)]));
    // awaitCreation only works where the collection was created
    await expect(charm.awaitCreation(proxy)).rejects.toThrow(/created on another PE/);
  });

  it("a future homed on a PE is resolved by the driver and awaited on its PE", async () => {
    const makers = charm.array(Maker, 2);
    for (const i of [0, 1]) {
      const report = new Future<{ f: Future<string> }>();
      const result = makers.at(i).waitForDriver.ret(report);
      const { f: theirs } = await report;
      expect(theirs).toBeInstanceOf(Future);
      expect(theirs.home).toBe(i);
      theirs.send(`hello PE ${i}`);
      expect(await result).toBe(`hello PE ${i}`);
    }
  });
});

describe("messages that race creation", () => {
  it("calls from a PE reaching a collection before its creation message are held and replayed", async () => {
    const makers = charm.array(Maker, 2);
    for (let round = 0; round < 20; round++) {
      const leaves = charm.array(Leaf, 4, { args: [`r${round}`] });
      // PE 0 broadcasts to the new array at once; PE 1 may hear from PE 0 before the driver's create
      const got = await makers.at(0).askAll.ret(leaves);
      expect(got).toEqual([0, 1, 2, 3].map((i) => [`r${round}`, i, Math.floor(i / 2)]));
    }
  });

  it("broadcasts and reductions over arrays smaller than the number of PEs", async () => {
    const one = charm.array(Leaf, 1, { args: ["one"] });
    expect(await one.where.ret()).toEqual([["one", 0, 0]]);
    const done = new Future<number[]>();
    one.badLengths(done); // a single contribution: nothing to combine, so no error
    expect(await done).toEqual([1]);
  });
});

describe("reductions with bad data", () => {
  it("arrays of different lengths reject the reduction's future with the reducer's error", async () => {
    const arr = charm.array(Leaf, 4, { args: ["x"] });
    const done = new Future<number[]>();
    arr.badLengths(done);
    const err = await Promise.resolve(done).catch((e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.message).toMatch(/different lengths/);
  });

  it("a contribution that can't be copied fails that element's entry method", async () => {
    const arr = charm.array(Leaf, 2, { args: ["y"] });
    const done = new Future<unknown>();
    const err = await arr.at(1).badValue.ret(done).then(() => undefined, (e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.message).toMatch(/function/);
    expect(await arr.where.ret()).toEqual([["y", 0, 0], ["y", 1, 1]]);
  });
});
