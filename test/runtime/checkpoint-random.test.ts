// Random collections with random states survive a checkpoint on one number of PEs and a restore
// on another (fast-check, seeded): dense 1-D and 2-D arrays, sparse arrays, groups and
// singletons, each element holding its own mix of plain data, typed arrays, Maps and Sets.
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { charm } from "../../runtime/index.ts";
import { Bag } from "./fixtures/checkpoint.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/checkpoint.ts", import.meta.url).href;
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 20_000, what, runtimeState);
const root = mkdtempSync(join(tmpdir(), "charm4ts-ckpt-random-"));
afterAll(async () => {
  await charm.shutdown();
  rmSync(root, { recursive: true, force: true });
});

const state = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.float64Array({ maxLength: 20 }),
  fc.float64Array({ minLength: 128, maxLength: 400 }), // 1 KiB and more: written straight from memory
  fc.integer({ min: 8192, max: 12_000 }).map((n) => Float64Array.from({ length: n }, (_, k) => k * 0.5 - n)), // 64 KiB and more: read straight into place
  fc.tuple(fc.int16Array({ minLength: 600, maxLength: 700 }), fc.string()).map(([a, s]) => ({ a, again: a, s })),
  fc.int32Array({ maxLength: 20 }),
  fc.uint8Array({ maxLength: 40 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer()).map((d) => new Map(Object.entries(d))),
  fc.array(fc.integer(), { maxLength: 6 }).map((a) => new Set(a)),
);
const collection = fc.oneof(
  fc.record({ kind: fc.constant("array" as const), dims: fc.oneof(fc.tuple(fc.integer({ min: 1, max: 9 })), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }))), seed: fc.array(state, { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant("sparse" as const), indices: fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 6 }), seed: fc.array(state, { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant("group" as const), seed: fc.array(state, { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant("single" as const), pe: fc.nat(4), seed: fc.array(state, { minLength: 1, maxLength: 1 }) }),
);
type Spec = typeof collection extends fc.Arbitrary<infer T> ? T : never;

/** Makes a collection of Bags from a spec: element k gets the spec's state k mod its count. */
async function make(spec: Spec): Promise<any> {
  const pick = (k: number): unknown => spec.seed[k % spec.seed.length];
  switch (spec.kind) {
    case "array": {
      const p = charm.array(Bag, spec.dims, { args: [null] });
      const n = spec.dims.reduce((a, b) => a * b, 1);
      for (let k = 0; k < n; k++) p.at(...(spec.dims.length === 1 ? [k] : [Math.floor(k / spec.dims[1]!), k % spec.dims[1]!])).set(pick(k));
      return p;
    }
    case "sparse": {
      const p = charm.sparseArray(Bag);
      spec.indices.forEach((i, k) => charm.insert(p, i, [pick(k)]));
      await waitFor(charm.doneInserting(p), "doneInserting");
      return p;
    }
    case "group": {
      const p = charm.group(Bag, { args: [null] });
      for (let pe = 0; pe < charm.numPes(); pe++) p.at(pe).set(pick(pe));
      return p;
    }
    case "single": return charm.chare(Bag, [pick(0)], { onPe: spec.pe % charm.numPes() });
  }
}

/** Every element's state, index ordered (a group's as it would be on `pes` PEs: PE p holds what PE p mod `from` held). */
async function states(spec: Spec, p: any): Promise<unknown[]> {
  if (spec.kind === "single") return [(await waitFor(p.get.ret(), "a singleton's state") as { data: unknown }).data];
  const all = await waitFor(p.get.ret(), `a ${spec.kind}'s states`) as Array<{ data: unknown; index: number[] }>;
  return all.map((b) => [b.index, b.data]);
}

describe("random collections and states, checkpointed on one PE count and restored on another", () => {
  it("round-trips", async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(fc.constantFrom(2, 3, 5), fc.constantFrom(2, 3, 5), fc.array(collection, { minLength: 1, maxLength: 4 }), async (from, to, specs) => {
      const dir = join(root, `run-${run++}`);
      await charm.shutdown();
      await charm.start({ numPes: from, modules: [fixtures] });
      const proxies = [];
      for (const spec of specs) proxies.push(await make(spec));
      const before: unknown[][] = [];
      for (let k = 0; k < specs.length; k++) before.push(await states(specs[k]!, proxies[k]));
      await waitFor(charm.checkpoint(dir, { proxies }), "charm.checkpoint");
      await charm.shutdown();
      await charm.start({ numPes: to, modules: [fixtures] });
      const r = await waitFor(charm.restore<{ proxies: any[] }>(dir), "charm.restore");
      for (let k = 0; k < specs.length; k++) {
        const spec = specs[k]!;
        const after = await states(spec, r.proxies[k]);
        if (spec.kind !== "group") { expect(after).toEqual(before[k]); continue; }
        expect(after).toEqual(Array.from({ length: to }, (_, p) => [[p], (before[k]![p % from] as [number[], unknown])[1]]));
      }
    }), { seed: 20261206, numRuns: 12, endOnFailure: true });
  }, 240_000);
});
