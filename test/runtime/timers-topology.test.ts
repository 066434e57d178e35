// Timers (scheduleCallableAfter with every callback kind, never early, counted for QD), topology
// queries, and the pool's mapAsync.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, CharmError, Future } from "../../runtime/index.ts";
import { Echo } from "./fixtures/basic.ts";
import { square } from "./fixtures/pool.ts";

const modules = [new URL("./fixtures/basic.ts", import.meta.url).href, new URL("./fixtures/pool.ts", import.meta.url).href];

describe("timers, topology and mapAsync on 2 PEs", () => {
  beforeAll(() => charm.start({ numPes: 2, modules }));
  afterAll(() => charm.shutdown());

  it("calls a future after the delay, never early", async () => {
    const f = new Future<string>();
    const t0 = performance.now();
    charm.scheduleCallableAfter(f, 0.05, "fired");
    expect(await f).toBe("fired");
    // Node may round a timer down by up to a millisecond; never more.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(49);
  });

  it("calls a bound entry method and a function; quiescence waits for pending calls", async () => {
    const arr = charm.array(Echo, 2);
    let called = 0;
    charm.scheduleCallableAfter(() => called++, 0.03);
    charm.scheduleCallableAfter(arr.at(1).echo, 0.03, "x");
    await charm.waitQD();
    expect(called).toBe(1);
    const calls = await arr.at(1).where.ret(); // the element is alive and answering
    expect(calls).toEqual([1, 1]);
  });

  it("rejects a callback that is neither", () => {
    expect(() => charm.scheduleCallableAfter(42 as any, 1)).toThrow(CharmError);
  });

  it("answers topology queries for local PEs: one host", () => {
    expect(charm.numHosts()).toBe(1);
    expect(charm.getHostPes(0)).toEqual([0, 1]);
    expect(charm.getHostFirstPe(0)).toBe(0);
    expect(charm.getHostNumPes(0)).toBe(2);
    expect(charm.getPeHost(1)).toBe(0);
    expect(charm.getPeHostRank(1)).toBe(1);
    expect(() => charm.getHostPes(1)).toThrow(/host 1 doesn't exist/);
    expect(() => charm.getPeHost(2)).toThrow(/PE 2 doesn't exist/);
  });

  it("mapAsync gives a Future of the results", async () => {
    const f = charm.pool.mapAsync(square, [1, 2, 3]);
    expect(f).toBeInstanceOf(Future);
    expect(await f).toEqual([1, 4, 9]);
  });
});
