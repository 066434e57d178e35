// Reductions: every built-in reducer and a custom one, to every target kind, over scalars,
// arrays and typed arrays; gather order (N-D too); allreduce; many reductions in flight. Over
// threads on 2, 3, 5 and 6 PEs (a reduction tree of a root alone, with children, and deeper),
// and over processes, 2 PEs per process and mixed at one PE count each.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future, Reducer } from "../../runtime/index.ts";
import { Red, Cell, bitOr, contribution, type DataKind, type TargetKind } from "./fixtures/reductions.ts";
import { rowMajor } from "./indices.ts";
import { over } from "./transports.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/reductions.ts", import.meta.url).href;
const N = 6;

/** A wait that fails after 10 s naming what it waited for and what each PE holds, instead of a vitest timeout. */
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 10_000, what, runtimeState);

/** The reference result, computed here with plain loops. */
function expected(reducer: string, kind: DataKind): unknown {
  const values = Array.from({ length: N }, (_, i) => contribution(reducer, kind, i));
  if (reducer === "nop") return undefined;
  if (reducer === "gather") return values;
  const op: Record<string, (a: any, b: any) => any> = {
    sum: (a, b) => a + b,
    product: (a, b) => a * b,
    max: (a, b) => Math.max(a, b),
    min: (a, b) => Math.min(a, b),
    logical_and: (a, b) => Boolean(a) && Boolean(b),
    logical_or: (a, b) => Boolean(a) || Boolean(b),
    logical_xor: (a, b) => Boolean(a) !== Boolean(b),
    bitOr: (a, b) => a | b,
  };
  const f = op[reducer]!;
  if (kind === "scalar") return values.reduce(f);
  const first = values[0] as ArrayLike<any> & { constructor: any };
  const out = Array.from(first, (_, k) => values.map((v) => (v as ArrayLike<any>)[k]).reduce(f));
  return kind === "typed" ? new first.constructor(out) : out;
}

const reducers = [
  ["sum", Reducer.sum], ["product", Reducer.product], ["max", Reducer.max], ["min", Reducer.min],
  ["logicalAnd", Reducer.logicalAnd], ["logicalOr", Reducer.logicalOr], ["logicalXor", Reducer.logicalXor],
  ["gather", Reducer.gather], ["custom bitOr", bitOr],
] as const;
const targets: TargetKind[] = ["future", "element", "broadcast"];
const kinds: DataKind[] = ["scalar", "array", "typed"];

/** Runs one reduction of an N-element array to a target; returns what the target received. */
async function reduceTo(reducer: string, kind: DataKind, target: TargetKind): Promise<unknown> {
  const arr = charm.array(Red, N);
  if (target === "future") {
    const f = new Future<unknown>();
    arr.contrib(reducer, kind, target, f);
    return waitFor(f, `a ${reducer} reduction over ${kind} data to a future`);
  }
  const count = target === "element" ? 1 : N;
  const report = new Future<Array<[number, unknown[]]>>(count);
  arr.contrib(reducer, kind, target, report as Future<unknown>);
  const got = await waitFor(report, `a ${reducer} reduction over ${kind} data to ${count} ${target} target(s)`);
  const received = count === 1 ? [got as unknown as [number, unknown[]]] : got;
  // element targets reach element 0 only; broadcast targets reach every element, with one argument each
  expect(received.map((r) => r[0]).sort((a, b) => a - b)).toEqual(target === "element" ? [0] : [0, 1, 2, 3, 4, 5]);
  for (const r of received) expect(r[1]).toEqual(received[0]![1]);
  const args = received[0]![1];
  expect(args.length).toBe(reducer === "nop" ? 0 : 1);
  return args[0];
}

describe.each([[2, "threads"], [3, "threads"], [5, "threads"], [6, "threads"], [3, "processes"], [6, "2 PEs per process"], [5, "mixed"]] as const)("reductions on %i PEs (%s)", (numPes, transport) => {
  beforeAll(() => charm.start({ numPes, modules: [fixtures], ...over(transport) }));
  afterAll(() => charm.shutdown());

  for (const [label, reducer] of reducers) {
    for (const target of targets) {
      it(`${label} to a ${target} target over scalars, arrays and typed arrays`, async () => {
        for (const kind of kinds) {
          if (reducer === bitOr && kind !== "scalar") continue;
          const got = await reduceTo(reducer, kind, target);
          const want = expected(reducer, kind);
          if (kind === "typed" && reducer !== "gather") expect(got?.constructor).toBe((want as object).constructor);
          if (kind === "typed" && reducer === "gather") for (const v of got as unknown[]) expect(v).toBeInstanceOf(Float32Array);
          expect(got).toEqual(want);
        }
      });
    }
  }

  it.each(targets)("nop (a barrier) to a %s target: called with no value", async (target) => {
    expect(await reduceTo("nop", "scalar", target)).toBeUndefined();
  });

  it("reduce(target, data, reducer) and an empty reduce (a barrier)", async () => {
    const arr = charm.array(Red, N);
    const done = new Future<number>();
    const barrier = new Future<undefined>();
    arr.reduceIndex(done, barrier);
    expect(await done).toBe(15);
    expect(await barrier).toBeUndefined();
  });

  it("several reductions of one collection in flight at once", async () => {
    const arr = charm.array(Red, N);
    const futures = Array.from({ length: 20 }, () => new Future<number>());
    arr.contributeMany(futures);
    expect(await Promise.all(futures)).toEqual(futures.map((_, k) => (N - 1) * 1000 + k));
  });

  it("gather is ordered by index, whatever order the contributions arrive in", async () => {
    const arr = charm.array(Red, 8);
    const done = new Future<number[]>();
    arr.gatherLate(8, done);
    expect(await done).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("gather over 2-D and 6-D arrays is in row-major index order", async () => {
    for (const dims of [[3, 4], [2, 3, 1, 2, 1, 2], [2, 2, 2, 2, 2, 2]]) {
      const grid = charm.array(Cell, dims);
      const done = new Future<number[][]>();
      grid.gatherIndex(done);
      expect(await done).toEqual(rowMajor(dims));
      const ones = new Future<number>();
      grid.sumOnes(ones);
      expect(await ones).toBe(dims.reduce((a, b) => a * b, 1));
    }
  });

  it("allreduce gives every element the result (scalars, typed arrays, gather)", async () => {
    const arr = charm.array(Red, N);
    expect(await arr.allSum.ret(10)).toEqual(Array(N).fill(75));
    expect(await arr.allTyped.ret()).toEqual(Array(N).fill([1, 15, 6]));
    expect(await arr.allGather.ret()).toEqual(Array(N).fill([0, 2, 4, 6, 8, 10]));
    const group = charm.group(Red);
    expect(await group.allSum.ret(0)).toEqual(Array(numPes).fill((numPes * (numPes - 1)) / 2));
  });
});

describe.each([2, 3, 5])("many allreduces on %i PEs", (numPes) => {
  beforeAll(() => charm.start({ numPes, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it("1,000 consecutive allreduces in several collections at once", async () => {
    const a = charm.array(Red, 8);
    const b = charm.array(Red, 3);
    const c = charm.group(Red);
    const d = charm.array(Red, 1);
    const loops = Promise.all([a.allLoop.ret(1000, 8), b.allLoop.ret(1000, 3), c.allLoop.ret(1000, numPes), d.allLoop.ret(1000, 1)]);
    const [ra, rb, rc, rd] = await waitFor(loops, "1,000 allreduces in each of 4 collections");
    expect(ra).toEqual(Array(8).fill(1000));
    expect(rb).toEqual(Array(3).fill(1000));
    expect(rc).toEqual(Array(numPes).fill(1000));
    expect(rd).toEqual([1000]);
  });
});

describe("arithmetic reducers over values they can't combine", () => {
  beforeAll(() => charm.start({ numPes: 3, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it("a string, undefined or a bigint beside numbers rejects the reduction saying what it got, instead of concatenating or giving NaN", async () => {
    const outcome = (work: PromiseLike<unknown>, what: string) => waitFor(Promise.resolve(work).then((v) => `resolved with ${String(v)}`, (e: Error) => e.message), what);
    for (const [reducer, odd, got] of [["sum", "str", /a string \("str"\)/], ["max", undefined, /undefined/], ["product", 2n, /a bigint/]] as const) {
      const f = new Future<unknown>();
      charm.array(Red, N).contribMixed(reducer, odd, f);
      const said = await outcome(f, `a ${reducer} reduction over numbers and ${String(odd)}`);
      expect(said).toMatch(new RegExp(`Reducer\\.${reducer} combines numbers, bigints or booleans`));
      expect(said).toMatch(got);
    }
    const fine = new Future<number>();
    charm.array(Red, N).contribMixed("sum", 1, fine);
    expect(await waitFor(fine, "a sum over numbers after them")).toBe(15);
  });
});

describe.each([2, 3, 6])("two reducers in one reduction, %i PEs", (numPes) => {
  beforeAll(() => charm.start({ numPes, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  // The odd one first (its share is the one others meet) and last (it meets theirs: on its PE, or
  // as a partial on the way up, or at the root), on every PE count.
  it.each([[0, "max", /Reducer\.sum where others used Reducer\.max|Reducer\.max where others used Reducer\.sum/], [N - 1, "logical_and", /Reducer\.logicalAnd/], [N - 1, "nop", /Reducer\.nop/]] as const)(
    "element %i contributing with %s rejects the reduction, naming both; the next reduction is fine", async (odd, reducer, names) => {
      const reds = charm.array(Red, N);
      const f = new Future<unknown>();
      reds.contribTwoReducers(odd, reducer, f);
      const said = await waitFor(Promise.resolve(f).then((v) => `resolved with ${String(v)}`, (e: Error) => e.message), `a reduction where element ${odd} uses ${reducer}`);
      expect(said).toMatch(/one reduction, two reducers: .*; every contribution to a reduction must use the same reducer/);
      expect(said).toMatch(names);
      const fine = new Future<number>();
      reds.contribTwoReducers(-1, "sum", fine);
      expect(await waitFor(fine, "the next reduction, every element with sum")).toBe(15);
    });
});
