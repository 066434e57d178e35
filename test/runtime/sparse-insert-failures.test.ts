// One failed charm.insert (the index already exists, or the constructor threw) must cost only
// that insert: it used to mark the whole sparse array as failed on that PE, so every later
// broadcast was refused ("creating them failed") though all its elements exist; and a call to
// the element whose constructor threw waited forever instead of saying why.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, RemoteError } from "../../runtime/index.ts";
import { Picky } from "./fixtures/bad-values.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/bad-values.ts", import.meta.url).href;

async function outcome(work: PromiseLike<unknown>, what: string): Promise<unknown> {
  return bounded(Promise.resolve(work).then((v) => ({ resolved: v }), (e: unknown) => e), 10_000, what, runtimeState);
}

describe("a sparse array after a failed insert", () => {
  beforeAll(() => charm.start({ numPes: 3, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it("an index inserted twice is reported, and broadcasts still reach every element", async () => {
    const reported: RemoteError[] = [];
    charm.onError((e) => reported.push(e));
    try {
      const sparse = charm.sparseArray(Picky, { ndims: 1 });
      for (let i = 0; i < 6; i++) charm.insert(sparse, [i], []);
      charm.insert(sparse, [3], []);
      await bounded(charm.doneInserting(sparse), 10_000, "doneInserting", runtimeState);
      await bounded(charm.waitQD(), 10_000, "quiescence", runtimeState);
      expect(reported.map((e) => e.message).join("\n")).toMatch(/Picky\[3\] already exists/);
      expect(await outcome(sparse.ok.ret(), "a broadcast")).toEqual({ resolved: [0, 1, 2, 3, 4, 5] });
    } finally {
      charm.onError(undefined);
    }
  });

  it("a call to the element whose constructor threw says so, and broadcasts reach the others", async () => {
    charm.onError(() => undefined);
    try {
      const sparse = charm.sparseArray(Picky, { ndims: 1 });
      for (let i = 0; i < 6; i++) charm.insert(sparse, [i], []);
      charm.insert(sparse, [6], [true]);
      await bounded(charm.doneInserting(sparse), 10_000, "doneInserting", runtimeState);
      const call = await outcome(sparse.at(6).ok.ret(), "the call to the element that failed");
      expect(call).toBeInstanceOf(RemoteError);
      expect(String((call as Error).message)).toMatch(/Picky\[6\].*Picky refused to be made/);
      expect(await outcome(sparse.ok.ret(), "a broadcast")).toEqual({ resolved: [0, 1, 2, 3, 4, 5] });
    } finally {
      charm.onError(undefined);
    }
  });
});
