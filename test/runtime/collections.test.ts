// Collections: 2-D and 6-D arrays, groups, singletons, array maps, sparse arrays, awaitCreation,
// on 2, 3 and 5 PEs: every placement (block map, groups, round robin, custom maps) is computed
// from the PE count.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm } from "../../runtime/index.ts";
import { Holder, LastPe, RoundRobin, Where } from "./fixtures/collections.ts";
import { blockPe, range, rowMajor } from "./indices.ts";

const fixtures = new URL("./fixtures/collections.ts", import.meta.url).href;

describe.each([2, 3, 5])("collections on %i PEs", (numPes) => {
  const lastPe = numPes - 1;
  beforeAll(() => charm.start({ numPes, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  describe("N-D arrays", () => {
    it.each([[[3, 4]], [[2, 1, 3, 1, 2, 2]], [[1, 1, 1, 1, 1, 1]], [[5]]])("dims %j: thisIndex right everywhere, broadcast values in index order, block placement", async (dims) => {
      const arr = charm.array(Where, dims, { args: ["nd"] });
      const all = await arr.where.ret();
      const indices = rowMajor(dims);
      const total = indices.length;
      expect(all.map((w) => w.index)).toEqual(indices);
      expect(all.map((w) => w.made[1])).toEqual(indices);
      expect(all.map((w) => w.pe)).toEqual(indices.map((_, pos) => blockPe(pos, total, numPes)));
      expect(all.every((w) => w.label === "nd")).toBe(true);
      // element access with N numbers reaches that element
      const last = indices[total - 1]!;
      expect((await arr.at(...last).where.ret()).index).toEqual(last);
      expect((await arr.at(...indices[0]!).where.ret()).index).toEqual(indices[0]);
    });
  });

  describe("constructor arguments", () => {
    it("every element gets its own copy of the constructor arguments", async () => {
      const list = [7];
      const typed = new Int32Array([-1, 9]);
      const arr = charm.array(Holder, 6, { args: [list, typed] }); // several elements on a PE, or one
      list.push(99);
      typed[1] = 99;
      expect(await arr.get.ret()).toEqual([0, 1, 2, 3, 4, 5].map((i) => [[7, i], [i, 9]]));
      const group = charm.group(Holder, { args: [[1], new Int32Array(1)] });
      expect(await group.get.ret()).toEqual(range(numPes).map((pe) => [[1, pe], [pe]]));
    });
  });

  describe("groups and singletons", () => {
    it("a group has one element per PE, indexed [pe]", async () => {
      const group = charm.group(Where, { args: ["g"] });
      const all = await group.where.ret();
      expect(all.map((w) => [w.index, w.pe])).toEqual(range(numPes).map((pe) => [[pe], pe]));
      expect((await group.at(lastPe).where.ret()).pe).toBe(lastPe);
      expect((await group[1]!.where.ret()).index).toEqual([1]);
    });

    it("singletons run where onPe says, or round robin without it", async () => {
      for (const pe of [...range(numPes), lastPe]) {
        const one = charm.chare(Where, ["s"], { onPe: pe });
        expect(await one.where.ret()).toMatchObject({ pe, label: "s", made: [pe, [0]] });
      }
      const pes = await Promise.all(range(numPes).map(() => charm.chare(Where).where.ret()));
      expect(pes.map((w) => w.pe).sort((a, b) => a - b)).toEqual(range(numPes));
    });
  });

  describe("array maps", () => {
    it("elements land where procNum says (an exported ArrayMap subclass)", async () => {
      const arr = charm.array(Where, 7, { map: RoundRobin });
      const all = await arr.where.ret();
      expect(all.map((w) => w.pe)).toEqual(range(7).map((i) => i % numPes));
      expect(all.map((w) => w.index[0])).toEqual(range(7));
      expect((await arr.at(4).where.ret()).pe).toBe(4 % numPes);
      const grid = charm.array(Where, [4, 2], { map: RoundRobin }); // by the first index: rows
      expect((await grid.where.ret()).map((w) => w.pe)).toEqual(rowMajor([4, 2]).map(([i]) => i! % numPes));
      const onLast = charm.array(Where, 4, { map: LastPe });
      expect((await onLast.where.ret()).map((w) => w.pe)).toEqual([lastPe, lastPe, lastPe, lastPe]);
    });
  });

  describe("sparse arrays", () => {
    it("elements inserted with charm.insert receive calls, and broadcasts once insertion is done", async () => {
      const sparse = charm.sparseArray(Where);
      for (const i of [40, 3, 17]) charm.insert(sparse, i, [`at ${i}`]);
      expect(await sparse.at(17).where.ret()).toMatchObject({ index: [17], label: "at 17" });
      // a call sent before the element is inserted waits for it
      const early = sparse.at(99).where.ret();
      charm.insert(sparse, 99, ["late"]);
      expect(await early).toMatchObject({ index: [99], label: "late" });
      // a broadcast waiting for replies before doneInserting would never complete: a clear error instead
      expect(() => sparse.where.ret()).toThrow(/needs charm\.doneInserting\(proxy\) first/);
      expect(() => sparse.where.awaitable()).toThrow(/needs charm\.doneInserting/);
      await charm.doneInserting(sparse);
      expect((await sparse.where.ret()).map((w) => w.index[0])).toEqual([3, 17, 40, 99]);
    });

    it("an empty sparse array: broadcasts with replies resolve at once instead of hanging", async () => {
      const sparse = charm.sparseArray(Where);
      await charm.doneInserting(sparse);
      expect(await sparse.where.ret()).toEqual([]);
      await sparse.where.awaitable();
    });

    it("inserting an index twice is reported and keeps the first element", async () => {
      const sparse = charm.sparseArray(Where);
      const reported = new Promise<Error>((resolve) => charm.onError(resolve));
      try {
        charm.insert(sparse, 5, ["first"]);
        charm.insert(sparse, 5, ["second"]);
        expect((await reported).message).toMatch(/Where\[5\] already exists; charm\.insert adds new elements only/);
      } finally {
        charm.onError(undefined);
      }
      expect((await sparse.at(5).where.ret()).label).toBe("first");
    });

    it("2-D sparse arrays with a custom map", async () => {
      const sparse = charm.sparseArray(Where, { ndims: 2, map: RoundRobin });
      for (const [i, j] of [[5, 1], [0, 7], [4, 4]] as const) charm.insert(sparse, [i, j]);
      expect(await sparse.at(5, 1).where.ret()).toMatchObject({ index: [5, 1], pe: 5 % numPes });
      expect(await sparse.at(4, 4).where.ret()).toMatchObject({ index: [4, 4], pe: 4 % numPes });
      expect(() => sparse.at(5)).toThrow(/2-D/);
      expect(() => charm.insert(sparse, [1])).toThrow(/2-D/);
    });
  });

  describe("awaitCreation", () => {
    it("resolves once the collections exist; then every element answers", async () => {
      const arr = charm.array(Where, [4, 4]);
      const group = charm.group(Where);
      await charm.awaitCreation(arr, group);
      const single = charm.chare(Where, ["x"], { onPe: 1, awaitable: true });
      await charm.awaitCreation(single);
      expect((await arr.where.ret()).length).toBe(16);
      expect((await single.where.ret()).label).toBe("x");
    });

    it("says how to make a singleton awaitable", async () => {
      const single = charm.chare(Where, ["y"]);
      await expect(charm.awaitCreation(single)).rejects.toThrow(/awaitable: true/);
    });
  });
});
