import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CellExecutor } from "../../kernel/cells/executor.ts";
import { cellRunner, shown } from "./cell-runner.ts";
import { tempDir } from "../temp-dir.ts";

// Redefining a chare class upgrades its live chares in place: they keep their fields and take the
// new methods. A field the new class adds was set only by its initializer, which live chares never
// run: `this.history.push(x)` then failed on every call, with nothing said at the redefinition.
let executor: CellExecutor;
const run = cellRunner(() => executor);

describe.each([2, 3, 5])("a chare class redefined with new fields (%i PEs)", (numPes) => {
  beforeAll(async () => {
    process.env.CHARM4TS_PES = String(numPes);
    executor = await CellExecutor.start({ cwd: tempDir("cells"), typeCheck: false });
  });
  afterAll(() => executor.close());

  it("live chares get each new field whose initializer is a constant, a fresh value each, and the cell says which fields are left undefined", async () => {
    await run("class Acc extends Chare { total = 0; add(x: number) { this.total += x; } }\nconst acc = charm.array(Acc, 4);\nawait acc.add.awaitable(1)");
    const redefined = await run("const START = 10;\nclass Acc extends Chare {\n  total = 0; calls = START / 10; history: number[] = []; seen = new Set<number>(); mine = this.thisIndex[0];\n  add(x: number) { this.total += x; this.calls++; this.history.push(x); }\n  get() { return [this.total, this.calls, this.history, this.seen === undefined, this.mine === undefined]; }\n}");
    expect(redefined.result.status).toBe("ok");
    expect(redefined.stderr).toBe("charm4ts: Acc was redefined: its 4 live chares keep their state and take the new methods. New fields `calls`, `history`: given the initial value in them. New fields `seen`, `mine`: undefined in them (their initializers aren't constants, and constructors don't run again) — set them in an entry method, or create the chares again.\n");
    // Each chare its own array (a shared one would hold four 2s), its old total kept.
    expect(shown((await run("await acc.add.awaitable(2);\nJSON.stringify(await acc.get.ret())")).result)).toBe(`'${JSON.stringify(Array(4).fill([3, 2, [2], true, true]))}'`);
    // New chares run the constructor as always; a redefinition that adds no field says nothing.
    expect(shown((await run("JSON.stringify(await charm.chare(Acc, [], { onPe: 0 }).get.ret())")).result)).toBe(`'${JSON.stringify([0, 1, [], false, false])}'`);
    expect((await run("class Acc extends Chare { total = 0; calls = 0; history: number[] = []; seen = new Set<number>(); mine = 0; add(x: number) { this.total += 2 * x; } get() { return this.total; } }")).stderr).toBe("");
  });
});
