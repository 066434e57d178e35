import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CellExecutor } from "../../kernel/cells/executor.ts";
import { cellRunner, shown } from "./cell-runner.ts";
import { tempDir } from "../temp-dir.ts";

// A cell's declarations reach every PE; a PE busy in a long entry method evaluates them only
// after it. The cell's reply waited for that: `const X = 5` beside a 4 s call took 4 s, and
// beside an endless loop it never came (no hang notice either). Now it waits a second at most.
let executor: CellExecutor;
const run = cellRunner(() => executor);

describe("declaring in a cell while a PE is busy (3 PEs)", () => {
  beforeAll(async () => {
    process.env.CHARM4TS_PES = "3";
    executor = await CellExecutor.start({ cwd: tempDir("cells"), typeCheck: false });
    await run("class Spin extends Chare { spin() { for (;;) {} } where() { return charm.myPe(); } }\nconst sp = charm.array(Spin, 3);\nawait sp.where.ret()");
  });
  afterAll(() => executor.close());

  it("a cell that declares a constant, a function and a class replies while a PE is in an endless loop", async () => {
    expect(shown((await run("sp.at(2).spin();\n'spinning'")).result)).toBe("'spinning'");
    const declared = await run("const SOMETHING = 5;\nfunction twice(x: number) { return 2 * x; }\nclass Other extends Chare { x() { return twice(SOMETHING); } }\ntwice(SOMETHING)");
    expect(shown(declared.result)).toBe("10");
    expect(declared.stderr).toBe("");
    // The PEs that aren't busy have the declarations: a chare there uses them.
    expect(shown((await run("await charm.chare(Other, [], { onPe: 1 }).x.ret()")).result)).toBe("10");
  });

  it("an interrupt of a later wait lists the user's calls, not the declarations the busy PE hasn't taken", async () => {
    const waited = await run('const NEXT = 6;\nconsole.log("waiting");\nawait sp.at(2).where.ret()', "waiting");
    expect(shown(waited.result)).toMatch(/Interrupted while waiting for: Spin\[2\]\.where\.$/);
    expect(waited.stderr).toContain("PE 2 did not answer within 1000 ms");
  });

  it("interrupting a pool map of long tasks stops it and restarts no PE: the chares there live on, and the pool works next", async () => {
    await run("function slowSq(x: number) { const end = performance.now() + 40; while (performance.now() < end); return x * x; }\nfunction slowCount(done: Int32Array) { slowSq(0); return Atomics.add(done, 0, 1); }\nconst alive = charm.array(Spin, 3);\nawait alive.where.ret()");
    // Two chunks of 30 tasks of 40 ms: each held its PE 1.2 s, so the interrupt's check found the
    // PEs unresponsive and restarted them, taking `alive`'s chares with them; and with the PEs
    // answering, the chunks would still run every task after the interrupt.
    const mapped = await run('const done = new Int32Array(new SharedArrayBuffer(4));\nconsole.log("mapping");\nawait charm.pool.map(slowCount, Array(60).fill(done), { chunkSize: 30 })', "mapping");
    expect(shown(mapped.result)).toMatch(/^Interrupted: /);
    expect(mapped.stderr).not.toContain("did not answer");
    expect(shown((await run("await alive.where.ret()")).result)).toBe("[ 0, 1, 2 ]");
    // Quiescent: no chunk runs any more; they stopped at their first pause after the interrupt.
    expect(Number(shown((await run("await charm.waitQD();\nAtomics.load(done, 0)")).result))).toBeLessThan(60);
    expect(shown((await run("await charm.pool.map(slowSq, [1, 2, 3])")).result)).toBe("[ 1, 4, 9 ]");
  });
});
