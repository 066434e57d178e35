// Sections, ported from Charm4Py's tests/sections: random generations of split and combine
// checked by multicast and gather (multirand-split-combine), section reductions against plain
// loops (callbacks, allreduce), sections as reduction targets, slices (slice.py), groups,
// combinations of collections, members that migrate, and the errors people will meet.
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future, Reducer, RemoteError, type Index } from "../../runtime/index.ts";
import { pythonRange } from "../../runtime/sections/slice.ts";
import { MIME_BUNDLE } from "../../runtime/presentation/display.ts";
import { maybeRt } from "../../runtime/core/current.ts";
import { proxyRef } from "../../runtime/core/proxy.ts";
import { makeSectionProxy } from "../../runtime/sections/proxy.ts";
import type { SectionDef } from "../../runtime/protocol/messages.ts";
import type { SectionId } from "../../runtime/protocol/ids.ts";
import { Member, Other, valueAt, type Report } from "./fixtures/sections.ts";
import { blockPe, range, rowMajor } from "./indices.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/sections.ts", import.meta.url).href;

/** A wait that fails after 10 s naming what it waited for and what each PE holds, instead of a vitest timeout. */
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 10_000, what, runtimeState);

/** A small seeded PRNG (mulberry32): the same generations on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const keyOf = (tag: string, index: readonly number[]): string => `${tag}:${index.join(",")}`;
const indicesOf = (reports: Report[]): number[][] => reports.map((r) => r[1]);

/** Orders two indices of one collection (row-major). */
function compareIdx(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

describe.each([2, 3, 5])("sections on %i PEs", (numPes) => {
  beforeAll(() => charm.start({ numPes, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  describe("random split and combine (Charm4Py's multirand-split-combine)", () => {
    /** A collection or section made so far, and the elements it must reach. */
    interface Entry { proxy: any; members: Set<string>; section: boolean }

    it.each([1, 2, 3])("seed %i: every member answers each multicast once, non-members never; gathers over sections match", async (seed) => {
      const random = prng(seed);
      const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
      const between = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
      const tagOf = new Map<unknown, string>();
      const entries: Entry[] = [];
      const base: Array<{ proxy: any; tag: string; indices: number[][] }> = [];
      const add = (tag: string, proxy: any, indices: number[][]): void => {
        tagOf.set(proxy, tag);
        base.push({ proxy, tag, indices });
        entries.push({ proxy, members: new Set(indices.map((i) => keyOf(tag, i))), section: false });
      };
      for (let k = 0; k < 3; k++) {
        const n = between(1, numPes * 8);
        add(`a${k}`, charm.array(Member, n, { args: [`a${k}`] }), rowMajor([n]));
      }
      const dims = [between(1, 4), between(2, 5)];
      add("grid", charm.array(Member, dims, { args: ["grid"] }), rowMajor(dims));
      add("g", charm.group(Member, { args: ["g"] }), rowMajor([numPes]));

      for (let gen = 0; gen < 40; gen++) {
        if (gen < 12 || random() < 0.5) {
          const candidates = entries.filter((e) => e.members.size > 1);
          const from = pick(candidates);
          const all = [...from.members];
          const n = random() < 0.9 ? between(1, Math.floor(all.length / 2)) : between(1, all.length);
          const assign = new Map<string, number[]>();
          const parts: string[][] = Array.from({ length: n }, () => []);
          if (random() < 0.5) {
            // disjoint: a shuffled partition
            for (let i = all.length - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [all[i], all[j]] = [all[j]!, all[i]!]; }
            for (let s = 0; s < n; s++) parts[s] = all.slice(Math.floor((s * all.length) / n), Math.floor(((s + 1) * all.length) / n));
          } else {
            // overlapping: independent samples
            for (let s = 0; s < n; s++) parts[s] = all.filter(() => random() < 1 / n).concat(pick(all));
          }
          parts.forEach((part, s) => { for (const m of part) assign.set(m, [...(assign.get(m) ?? []), s]); });
          const tags = new Set(all.map((m) => m.split(":")[0]));
          const useElems = tags.size === 1 && random() < 0.3;
          const proxies = useElems
            ? charm.split(from.proxy, n, { elems: parts.map((p) => p.map((m) => m.split(":")[1]!.split(",").map(Number))) })
            : charm.split(from.proxy, n, { by: (index: Index, coll: unknown) => [...new Set(assign.get(keyOf(tagOf.get(coll)!, index)) ?? [])] });
          expect(proxies.length).toBe(n);
          proxies.forEach((p, s) => entries.push({ proxy: p, members: new Set(parts[s]), section: true }));
        } else {
          const chosen = Array.from({ length: between(2, 4) }, () => pick(entries));
          const members = new Set(chosen.flatMap((e) => [...e.members]));
          entries.push({ proxy: charm.combine(...chosen.map((e) => e.proxy)), members, section: true });
        }
      }

      // Multicast with ret: each member once, in member order (by collection, then index).
      for (const e of entries) {
        const reports: Report[] = await e.proxy.who.ret();
        const got = reports.map((r) => keyOf(r[0], r[1]));
        expect(got.length).toBe(e.members.size);
        expect(new Set(got)).toEqual(e.members);
        const blocks = reports.map((r) => r[0]).filter((t, i, all) => i === 0 || all[i - 1] !== t);
        expect(new Set(blocks).size).toBe(blocks.length); // each collection's members together
        for (let i = 1; i < reports.length; i++) {
          if (reports[i]![0] === reports[i - 1]![0]) expect(compareIdx(reports[i]![1], reports[i - 1]![1])).toBeGreaterThan(0);
        }
      }

      // Fire-and-forget multicasts to every entry: each element counts exactly the entries it is in.
      await Promise.all(entries.map((e) => e.proxy.hit.awaitable()));
      for (const b of base) {
        const counts: number[] = await b.proxy.hitCount.ret();
        const want = b.indices.map((i) => entries.filter((e) => e.members.has(keyOf(b.tag, i))).length);
        expect(counts).toEqual(want);
      }

      // A gather over each section (the section proxy travels as an argument): its members, once.
      for (const e of entries) {
        const done = new Future<string[]>();
        e.proxy.gatherInto(e.section ? e.proxy : undefined, done);
        const got = await done;
        expect(got.length).toBe(e.members.size);
        expect(new Set(got)).toEqual(e.members);
      }
    });
  });

  describe("section reductions equal the same reduction over just those elements", () => {
    const chosen = [1, 4, 5, 9, 11];
    const values = chosen.map((i) => valueAt([i]));

    it("sum, max, min, gather, reduce(), a barrier, and allreduce", async () => {
      const arr = charm.array(Member, 12);
      const [sec] = charm.split(arr, 1, { elems: [chosen] });
      await sec!.keep.awaitable("s", sec!);
      const reduce = async (reducer: string): Promise<unknown> => {
        const f = new Future<unknown>();
        sec!.sectionContribute("s", reducer, f);
        return f;
      };
      expect(await reduce(Reducer.sum)).toBe(values.reduce((a, b) => a + b));
      expect(await reduce(Reducer.max)).toBe(Math.max(...values));
      expect(await reduce(Reducer.min)).toBe(Math.min(...values));
      expect(await reduce(Reducer.gather)).toEqual(values);
      expect(await reduce(Reducer.nop)).toBeUndefined();
      const total = new Future<number>();
      const barrier = new Future<undefined>();
      sec!.sectionReduce("s", total, barrier);
      expect(await total).toBe(values.reduce((a, b) => a + b));
      expect(await barrier).toBeUndefined();
      // allreduce: every member gets the result, many in a row
      expect(await sec!.sectionAllreduce.ret("s", 20)).toEqual(chosen.map(() => Array.from({ length: 20 }, (_, i) => (i + 1) * chosen.length)));
      expect(await sec!.sectionAllGather.ret("s")).toEqual(chosen.map(() => chosen.map((i) => [i])));
    });

    it("a section allreduce and a whole-array allreduce in flight at once stay apart", async () => {
      const arr = charm.array(Member, 12);
      const [sec] = charm.split(arr, 1, { by: (i) => (chosen.includes(i[0]!) ? 0 : -1) });
      await arr.keep.awaitable("s", sec!);
      const max = Math.max(...Array.from({ length: 12 }, (_, i) => valueAt([i])));
      const sum = values.reduce((a, b) => a + b);
      expect(await arr.mixedAllreduce.ret("s", chosen)).toEqual(Array.from({ length: 12 }, (_, i) => [chosen.includes(i) ? sum : null, max]));
    });

    it("gather over a 2-D slice is in row-major order", async () => {
      const grid = charm.array(Member, [4, 6]);
      const sec = grid.slice([1, 4], [0, 6, 2]);
      const done = new Future<string[]>();
      sec.gatherInto(sec, done);
      expect(await done).toEqual(rowMajor([3, 3]).map(([i, j]) => `m:${i! + 1},${j! * 2}`));
    });
  });

  describe("sections as reduction targets", () => {
    it("a whole-array reduction to a section's method reaches the members only, with the result", async () => {
      const arr = charm.array(Member, 10);
      const [odd] = charm.split(arr, 1, { by: (i) => (i[0]! % 2 === 1 ? 0 : -1) });
      const reports = new Future<Array<[string, number[], unknown[]]>>(5);
      await arr.expect.awaitable(reports as Future<unknown>);
      arr.sumTo(3, odd!.receive);
      const got = await reports;
      expect(got.map((r) => r[1][0]).sort()).toEqual([1, 3, 5, 7, 9]);
      expect(got.every((r) => r[2].length === 1 && r[2][0] === 30)).toBe(true);
      await charm.waitQD(); // every message delivered: nobody else received anything
      expect(await arr.receivedCount.ret()).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    });

    it("a section reduction to the section's own method, and quiescence to a section", async () => {
      const arr = charm.array(Member, 9);
      const sec = arr.slice(2, 8, 2); // 2, 4, 6
      await sec.keep.awaitable("s", sec);
      const reports = new Future<Array<[string, number[], unknown[]]>>(3);
      await arr.expect.awaitable(reports as Future<unknown>);
      sec.sumToSection("s", 5);
      expect((await reports).map((r) => [r[1][0], r[2]]).sort()).toEqual([[2, [15]], [4, [15]], [6, [15]]]);
      const quiet = new Future<Array<[string, number[], unknown[]]>>(3);
      await arr.expect.awaitable(quiet as Future<unknown>);
      charm.startQD(sec.receive);
      expect((await quiet).map((r) => [r[1][0], r[2]]).sort()).toEqual([[2, []], [4, []], [6, []]]);
    });
  });

  describe("slices (Charm4Py's slice.py)", () => {
    it("1-D arrays and groups like Python slices", async () => {
      const a = charm.array(Member, 64);
      expect(indicesOf(await a.slice(0, 64, 5).who.ret())).toEqual(Array.from({ length: 13 }, (_, i) => [i * 5]));
      expect(indicesOf(await a.slice(-3).who.ret())).toEqual([[61], [62], [63]]);
      expect(indicesOf(await a.slice(5, 1, -1).who.ret())).toEqual([[2], [3], [4], [5]]); // member order is index order
      expect(indicesOf(await a.slice([10, 13]).who.ret())).toEqual([[10], [11], [12]]);
      const g = charm.group(Member);
      const even = rowMajor([numPes]).filter((i) => i[0]! % 2 === 0);
      expect(indicesOf(await g.slice(null, null, 2).who.ret())).toEqual(even);
      expect((await g.slice(0, numPes).who.ret()).map((r) => r[2])).toEqual(range(numPes));
    });

    it("N-D arrays: one range (or a fixed index) per dimension", async () => {
      const grid = charm.array(Member, [8, 8]);
      const idx = indicesOf(await grid.slice([0, 8, 2], [1, 8, 2]).who.ret());
      expect(idx.length).toBe(16);
      expect(idx.every(([i, j]) => i! % 2 === 0 && j! % 2 === 1)).toBe(true);
      expect(idx).toEqual([...idx].sort(compareIdx));
      expect(indicesOf(await grid.slice(3, [0, null, 3]).who.ret())).toEqual([[3, 0], [3, 3], [3, 6]]);
      expect(indicesOf(await grid.slice([-1, null], -1).who.ret())).toEqual([[7, 7]]);
    });

    it("the slice arithmetic is Python's", () => {
      const cases: Array<[[number | null, number | null, number | null], number[]]> = [
        [[null, null, null], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
        [[2, 8, 3], [2, 5]],
        [[-3, null, null], [7, 8, 9]],
        [[null, null, -1], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]],
        [[8, 2, -2], [8, 6, 4]],
        [[-100, 100, null], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
        [[5, 5, null], []],
        [[null, -1, null], [0, 1, 2, 3, 4, 5, 6, 7, 8]],
        [[null, null, -3], [9, 6, 3, 0]],
        [[-1, -11, -1], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]],
        [[20, null, -4], [9, 5, 1]],
      ];
      for (const [[start, stop, step], want] of cases) expect(pythonRange(10, start, stop, step, "x")).toEqual(want);
    });
  });

  describe("sections over groups (Charm4Py's allreduce and constrained groups)", () => {
    it("split a group; multicast, allreduce and gather over each part", async () => {
      const g = charm.group(Member);
      const [even, odd] = charm.split(g, 2, { by: ([pe]) => pe! % 2 });
      const evenPes = range(numPes).filter((pe) => pe % 2 === 0);
      expect((await even!.who.ret()).map((r) => r[2])).toEqual(evenPes);
      expect((await odd!.who.ret()).map((r) => r[2])).toEqual(range(numPes).filter((pe) => pe % 2 === 1));
      await even!.keep.awaitable("e", even!);
      // each of the 5 allreduces sums (i + 1) over the even PEs' members
      const sums = range(5).map((i) => (i + 1) * evenPes.length);
      expect(await even!.sectionAllreduce.ret("e", 5)).toEqual(evenPes.map(() => sums));
      expect(await even!.sectionAllGather.ret("e")).toEqual(evenPes.map(() => evenPes.map((pe) => [pe])));
    });
  });

  describe("combine", () => {
    it("two arrays of different classes: multicast to all of them, values in member order", async () => {
      const a = charm.array(Member, 4, { args: ["a"] });
      const b = charm.array(Other, 3);
      const both = charm.combine(a.slice(1), b);
      const got = await both.who.ret();
      expect(got.map((r) => [r[0], r[1][0]])).toEqual([["a", 1], ["a", 2], ["a", 3], ["other", 0], ["other", 1], ["other", 2]]);
      expect(String(both)).toMatch(/^Member\+Other section #\d+ \(6 elements\)$/);
    });

    it("two arrays of one class: a reduction over the combination; duplicates count once", async () => {
      const a = charm.array(Member, 5, { args: ["a"] });
      const c = charm.array(Member, 4, { args: ["c"] });
      const both = charm.combine(c.slice(0, 2), a, c.slice(1, 3), a.slice(0, 1));
      const done = new Future<string[]>();
      both.gatherInto(both, done);
      expect(await done).toEqual(["c:0", "c:1", "c:2", "a:0", "a:1", "a:2", "a:3", "a:4"]);
      await both.keep.awaitable("both", both);
      expect(await both.sectionAllreduce.ret("both", 2)).toEqual(Array(8).fill([8, 16]));
      // a section of the combination: split by collection
      const [onlyC] = charm.split(both, 1, { by: (_, coll) => (coll === c ? 0 : -1) });
      expect((await onlyC!.who.ret()).map((r) => r[0] + r[1][0])).toEqual(["c0", "c1", "c2"]);
    });
  });

  describe("members that migrate", () => {
    it("multicasts reach members that moved (also while they move), once each", async () => {
      const arr = charm.array(Member, 6);
      // Each member moves to the PE before its block-map home (on 3 PEs: 1 from PE 0 to 2, 2 from 1 to 0, 4 from 2 to 1).
      const home = (i: number) => blockPe(i, 6, numPes);
      const to = (i: number) => (home(i) + numPes - 1) % numPes;
      const [sec] = charm.split(arr, 1, { elems: [[1, 2, 4]] });
      arr.at(1).moveTo(to(1));
      expect((await waitFor(arr.at(1).who.ret(), `member 1 to arrive on PE ${to(1)}`))[2]).toBe(to(1));
      expect((await waitFor(sec!.who.ret(), "a multicast to members 1, 2, 4")).map((r) => [r[1][0], r[2]])).toEqual([[1, to(1)], [2, home(2)], [4, home(4)]]);
      // a move and a multicast racing
      arr.at(2).moveTo(to(2));
      arr.at(4).moveTo(to(4));
      const racing = sec!.who.ret();
      sec!.hit();
      expect(indicesOf(await waitFor(racing, "a multicast to members 2 and 4 racing their moves"))).toEqual([[1], [2], [4]]);
      await waitFor(charm.waitQD(), "quiescence after the racing multicasts");
      expect(await waitFor(arr.hitCount.ret(), "the members' hit counts")).toEqual([0, 1, 1, 0, 1, 0]);
    });

    it("section reduction numbers travel with members: reductions keep counting after every move", async () => {
      const arr = charm.array(Member, 6);
      const [sec] = charm.split(arr, 1, { elems: [[0, 3, 5]] });
      await waitFor(sec!.keep.awaitable("s", sec!), "the section proxy to reach its members");
      // Some members move after each step, others stay: their reduction numbers must still agree.
      const movers = [[0], [3, 5], [5], [0, 3], [], [0, 3, 5]];
      for (let step = 0; step < movers.length; step++) {
        const done = new Future<number>();
        sec!.stepAndMove("s", step, done, movers[step]!);
        expect(await waitFor(done, `section reduction ${step} while members ${movers[step - 1] ?? []} move`)).toBe(3 * step + 0 + 3 + 5);
      }
      // Three moves each, one PE on every time: home again on 3 PEs.
      expect((await waitFor(sec!.who.ret(), "a multicast to the moved members")).map((r) => r[2])).toEqual([0, 3, 5].map((i) => (blockPe(i, 6, numPes) + 3) % numPes));
      expect(await waitFor(sec!.sectionAllreduce.ret("s", 3), "3 section allreduces after the moves")).toEqual(Array(3).fill([3, 6, 9]));
    });
  });

  describe("sparse arrays", () => {
    it("split with index lists after doneInserting", async () => {
      const sparse = charm.sparseArray(Member);
      for (const i of [40, 3, 17, 99]) charm.insert(sparse, i);
      await charm.doneInserting(sparse);
      const [low, high] = charm.split(sparse, 2, { elems: [[17, 3], [40, 99]] });
      expect(indicesOf(await low!.who.ret())).toEqual([[3], [17]]);
      await high!.keep.awaitable("h", high!);
      expect(await high!.sectionAllreduce.ret("h", 1)).toEqual([[2], [2]]);
    });
  });

  describe("section proxies as values", () => {
    it("are interned, travel in messages and return values, print, and show per-PE members", async () => {
      const arr = charm.array(Member, 7);
      const [sec, empty] = charm.split(arr, 2, { by: (i) => (i[0]! < 5 ? 0 : -1) });
      await arr.keep.awaitable("s", sec!);
      const back = await arr.at(6).section.ret("s");
      expect(back).toBe(sec); // the same object on this thread
      expect(String(sec)).toMatch(/^Member section #\d+ \(5 elements\)$/);
      expect(inspect(sec)).toMatch(/^SectionProxy<Member section #\d+ \(5 elements\)>$/);
      const bundle = (sec as any)[MIME_BUNDLE]();
      for (const pe of range(numPes)) {
        const here = range(5).filter((i) => blockPe(i, 7, numPes) === pe).length; // members 0…4, block-mapped
        if (here > 0) expect(bundle["text/plain"]).toContain(`PE ${pe}: ${here} member${here === 1 ? "" : "s"}`);
      }
      expect(bundle["text/html"]).toContain("<table>");
      // an empty section answers at once
      expect(await empty!.who.ret()).toEqual([]);
      await empty!.hit.awaitable();
    });
  });

  describe("a section proxy that arrives before its members do", () => {
    it("multicasts and contributions wait for the section's definition, on the driver and on PEs", async () => {
      const arr = charm.array(Member, 4);
      await charm.awaitCreation(arr);
      // A definition nobody has yet: what another PE's split looks like while its message is on the way.
      const runtime = maybeRt()!;
      const { idx: _none, ...to } = proxyRef(arr)!;
      const def: SectionDef = { sid: runtime.newCollectionId() as unknown as SectionId, cls: "Member", n: 2, refs: [to], members: [[[1], [2]]] };
      const sec = makeSectionProxy(def);
      await arr.keep.awaitable("late", sec);
      const early = sec.who.ret(); // held here
      const sum = new Future<number>();
      arr.at(1).sectionContribute("late", Reducer.sum, sum); // held on element 1's PE
      arr.at(2).sectionContribute("late", Reducer.sum, sum); // held on element 2's PE
      // a multicast that reaches PE 1 before the definition: held there, then run on the members PE 1 holds
      runtime.send(1, { t: "bcast", to, m: "hit", a: [], b: runtime.newBroadcastId(), sec: def.sid });
      await waitFor(charm.waitQD(), "quiescence with the multicast held");
      expect(await waitFor(arr.hitCount.ret(), "the hit counts before the definition")).toEqual([0, 0, 0, 0]);
      runtime.sections.define(def);
      for (let pe = 0; pe < numPes; pe++) runtime.send(pe, { t: "section", def });
      expect(indicesOf(await waitFor(early, "the multicast held on the driver"))).toEqual([[1], [2]]);
      expect(await waitFor(sum, "the section reduction held on the members' PEs")).toBe(valueAt([1]) + valueAt([2]));
      await waitFor(charm.waitQD(), "quiescence after the definition");
      const hitOnPe1 = range(4).map((i) => ([1, 2].includes(i) && blockPe(i, 4, numPes) === 1 ? 1 : 0));
      expect(hitOnPe1).toContain(1); // PE 1 holds a member on every PE count here
      expect(await waitFor(arr.hitCount.ret(), "the hit counts after the definition")).toEqual(hitOnPe1);
    });
  });

  describe("clear errors", () => {
    it("at the call site: bad options, indices out of range, by returning a non-integer, singletons, elements", () => {
      const arr = charm.array(Member, 10);
      expect(() => charm.split(arr, 2, { elems: [[1, 2], [3, 12]] })).toThrow(/elems\[1\]\[1\] = 12: .*out of range: dimension 0 has extent 10/);
      expect(() => charm.split(arr, 2, { elems: [[1]] })).toThrow(/elems must be an array of 2 index lists/);
      expect(() => charm.split(arr, 2, { by: () => 1.5 })).toThrow(/by\(\[0\]\) returned 1\.5; it must return a section number 0…1, -1 for none/);
      expect(() => charm.split(arr, 2, { by: () => 2 })).toThrow(/returned 2; it must return a section number 0…1/);
      expect(() => charm.split(arr, 0, { by: () => 0 })).toThrow(/must be a positive integer, got 0/);
      expect(() => charm.split(arr, 1, {} as any)).toThrow(/exactly one of \{ by/);
      const single = charm.chare(Member);
      expect(() => charm.split(single as any, 2, { by: () => 0 })).toThrow(/is a single chare; sections are made of arrays' and groups' elements/);
      expect(() => charm.combine(arr, single as any)).toThrow(/is a single chare/);
      expect(() => charm.split(arr.at(3) as any, 1, { by: () => 0 })).toThrow(/is one element; pass its collection's proxy/);
      const sparse = charm.sparseArray(Member);
      expect(() => charm.split(sparse, 1, { by: () => 0 })).toThrow(/sparse array's elements are not known .* \{ elems/);
      expect(() => sparse.slice(0, 3)).toThrow(/only dense arrays and groups can be sliced/);
      const grid = charm.array(Member, [3, 3]);
      expect(() => grid.slice(0, 2)).toThrow(/a 2-D array takes one range per dimension/);
      expect(() => grid.slice([0, 2])).toThrow(/1 range for a 2-D array/);
      expect(() => arr.slice(0, 5, 0)).toThrow(/step can't be 0/);
      const g = charm.group(Member);
      expect(() => charm.split(g, 1, { elems: [[numPes]] })).toThrow(/out of range: the group has one element per PE/);
      const both = charm.combine(arr, grid);
      expect(() => charm.split(both, 1, { elems: [[0]] })).toThrow(/spans several collections; split it with \{ by/);
      const sec = arr.slice(0, 3);
      expect(() => charm.split(sec, 1, { elems: [[5]] })).toThrow(/elems\[0\]\[0\] = 5 is not a member of Member section/);
      expect(() => (sec as any).nothing()).toThrow(/Member has no entry method "nothing"/);
      expect(() => (sec as any).at(0)).toThrow(/sections have no \.at\(\)/);
    });

    it("a non-member contributing to a section's reduction gets an error naming both", async () => {
      const arr = charm.array(Member, 4);
      const sec = arr.slice(0, 2);
      const error = await arr.at(3).contributeTo.awaitable(sec, new Future()).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteError);
      expect((error as Error).message).toMatch(/Member\[3\] is not a member of Member section #\d+ \(2 elements\); only a section's members contribute/);
    });
  });
});
