// A chare whose state holds a cyclic object: a migration keeps the cycles (the codec remembers
// what it encoded), so a checkpoint must too. Without a guard, extracting the large typed arrays
// from the encoded state (binary.ts) recursed around the cycle until the stack overflowed, and
// charm.checkpoint rejected with "Maximum call stack size exceeded" for any such element.
import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { charm } from "../../runtime/index.ts";
import { Cyclic } from "./fixtures/cycles.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { tempDir } from "../temp-dir.ts";

const fixtures = new URL("./fixtures/cycles.ts", import.meta.url).href;
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 20_000, what, runtimeState);
afterEach(() => charm.shutdown());

describe("a cyclic object in a chare's state", () => {
  it.each([
    ["alone", false, false],
    ["with a large typed array inside", true, false],
    ["beside a proxy", false, true],
    ["with both", true, true],
  ])("%s: checkpointed and restored on another number of PEs, still cyclic", async (_name, big, ref) => {
    await charm.start({ numPes: 3, modules: [fixtures] });
    const cells = charm.array(Cyclic, 4);
    await waitFor(cells.build.awaitable(big, ref), "Cyclic.build");
    const before = await waitFor(cells.check.ret(), "the states before");
    const dir = join(tempDir("ckpt-cycles"), "ckpt");
    await waitFor(charm.checkpoint(dir, { cells }), "a checkpoint of cyclic states");
    await charm.shutdown();
    await charm.start({ numPes: 2, modules: [fixtures] });
    const r = await waitFor(charm.restore<{ cells: typeof cells }>(dir), "restoring cyclic states");
    const after = await waitFor(r.cells.check.ret(), "the states after");
    expect(after.map(({ pe: _, ...s }) => s)).toEqual(before.map(({ pe: _, ...s }) => s));
    expect(after.every((s) => s.cyclic)).toBe(true);
  }, 60_000);
});
