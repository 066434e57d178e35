// Conditional delivery: calls wait for their condition and are released in arrival order, on 2,
// 3 and 5 PEs (the stencil's neighbours then sit on other PEs, or a third one).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future } from "../../runtime/index.ts";
import { Ordered, Stencil } from "./fixtures/when.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/when.ts", import.meta.url).href;

describe.each([2, 3, 5])("conditional delivery (static when) on %i PEs", (numPes) => {
  beforeAll(() => charm.start({ numPes, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it("holds calls until their condition holds", async () => {
    const o = charm.array(Ordered, 1).at(0);
    for (const i of [4, 3, 2, 1, 0]) o.step(i);
    expect(await o.seenSoFar.ret()).toEqual([0, 1, 2, 3, 4]);
  });

  it("releases waiting calls in arrival order, not LIFO (Charm4Py's order)", async () => {
    const o = charm.array(Ordered, 1).at(0);
    for (const tag of [1, 2, 3]) o.late(tag);
    o.unlock();
    expect(await o.lateSeen.ret()).toEqual([1, 2, 3]);
  });

  it("a stencil written with conditional delivery computes what a sequential loop does", async () => {
    const n = 6;
    const iterations = 15;
    const stencil = charm.array(Stencil, n, { args: [n] });
    const done = new Future<number[]>();
    stencil.start(iterations, done);
    let values = Array.from({ length: n }, (_, i) => i * 10);
    for (let it = 0; it < iterations; it++) values = values.map((v, i) => (v + values[(i + 1) % n]! + values[(i + n - 1) % n]!) / 3);
    const result = await bounded(Promise.resolve(done), 10_000, `the ${n}-element stencil's gather after ${iterations} iterations`, runtimeState);
    result.forEach((v, i) => expect(v).toBeCloseTo(values[i]!, 9));
  });
});
