import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CellExecutor } from "../../kernel/cells/executor.ts";
import { cellRunner, shown } from "./cell-runner.ts";
import { tempDir } from "../temp-dir.ts";

// What charm.restore and charm.recover resolve with — the named values, proxies among them — is
// what a cell shows when it ends with `await charm.restore(dir)`. A proxy inside an object or an
// array was shown as `[Object: null prototype] {}`: Node's inspect looks at a Proxy's target, not
// its traps, and every proxy shares one empty target.
let executor: CellExecutor;
const run = cellRunner(() => executor);

describe("the named values of a restore or recover, as a cell shows them", () => {
  let dir: string;
  beforeAll(async () => {
    process.env.CHARM4TS_PES = "2";
    dir = tempDir("restored-display");
    executor = await CellExecutor.start({ cwd: tempDir("cells"), typeCheck: false });
    await run("class Acc extends Chare { total = 0; add(x: number) { this.total += x; } }");
    await run(`const acc = charm.array(Acc, 4);\nawait acc.add.awaitable(1);\nawait charm.checkpoint(${JSON.stringify(dir)}, { acc, label: "one" })`);
  });
  afterAll(() => executor.close());

  it("charm.restore's result names its proxies", async () => {
    const restored = shown((await run(`await charm.restore(${JSON.stringify(dir)})`)).result);
    expect(restored).not.toContain("[Object: null prototype]");
    expect(restored).toMatch(/acc: Proxy<Acc.*label: 'one'/s);
  });

  it("charm.recover's result, and proxies in arrays and objects, name themselves too", async () => {
    await run("await charm.checkpoint({ inMemory: true }, { acc })");
    expect(shown((await run("await charm.recover()")).result)).toMatch(/^\{ acc: Proxy<Acc/);
    expect(shown((await run("const fresh = charm.array(Acc, 2);\n[fresh, { at: fresh.at(1) }]")).result)).toMatch(/^\[ Proxy<Acc.*, \{ at: Proxy<Acc/s);
  });
});
