import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CellExecutor } from "../../kernel/cells/executor.ts";
import type { CellResult } from "../../kernel/cells/protocol.ts";
import { kernelScript, launchKernel, type LaunchedKernel } from "../../kernel/runner/launch.ts";
import { within } from "../runtime/within.ts";
import { recorder } from "./cells/helpers.ts";
import { tempDir } from "../temp-dir.ts";

// A traceback shows the user's code: cells, their own modules, the chare's entry method on its
// PE and the cell line that awaited it; the runtime's frames only with CHARM4TS_FULL_STACKS=1
// (issue 12, item 2).
const ANSI = /\u001b\[[0-9;]*m/g;
const RED = "\u001b[0;31m";
type Failed = Extract<CellResult, { status: "error" }>;
const plain = (r: Failed) => r.traceback.map((line) => line.replace(ANSI, ""));
/** Any frame of the runtime, the kernel or Node, wherever they were loaded from. */
const RUNTIME_FRAME = /dist\/|runtime\/|kernel\/|cells-worker|node:|<anonymous>\)|EntryRunner|WireReader/;

let executor: CellExecutor;
let notebook: string;
let count = 0;
async function fails(code: string): Promise<Failed> {
  const name = `cell-${++count}.ts`;
  const result = await within(executor.execute(code, recorder().hooks, { name }), 20_000, `${name}: ${code.split("\n").at(-1)}`);
  if (result.status !== "error") throw new Error(`${name} was expected to fail, got ${JSON.stringify(result)}`);
  return result;
}

describe("tracebacks in cells", () => {
  beforeAll(async () => {
    process.env.CHARM4TS_PES = "2";
    notebook = realpathSync(tempDir("tracebacks"));
    writeFileSync(join(notebook, "helper.ts"), "export function fail(x: number): number {\n  throw new Error('helper failed ' + x);\n}\n");
    executor = await CellExecutor.start({ cwd: notebook, typeCheck: false });
    const defined = await executor.execute(`class Thrower extends Chare {
  boom(): number {
    return explode();
  }
  ping(): number { return 1; }
  exitNow(): void { process.exit(3); }
}
function explode(): number {
  throw new RangeError("kaboom");
}
const throwers = charm.array(Thrower, 2);
await charm.awaitCreation(throwers);`, recorder().hooks, { name: `cell-${++count}.ts` });
    expect(defined.status).toBe("ok");
  });
  afterAll(() => executor.close());

  it("a remote error: the entry method's frames on its PE, then the cell line that awaited it", async () => {
    const r = await fails("const before = 1;\nawait throwers.at(1).boom.ret()");
    expect(plain(r)).toEqual([
      "RemoteError: RangeError: kaboom (raised on PE 1 in Thrower[1].boom)",
      "  on PE 1, in Thrower[1].boom:",
      "    at explode (cell-1.ts:9:9)",
      "    at Thrower.boom (cell-1.ts:3:12)",
      "  awaited at:",
      `    at async cell-${count}.ts:2:1`,
    ]);
    // Coloured as IPython does: in the traceback only, never in evalue.
    expect(r.traceback[0]).toBe(`${RED}RemoteError\u001b[0m: RangeError: kaboom (raised on PE 1 in Thrower[1].boom)`);
    expect(r.evalue).toBe("RangeError: kaboom (raised on PE 1 in Thrower[1].boom)");
  });

  it("a call awaited after it already failed still names the awaiting line", async () => {
    const r = await fails("const failing = throwers.at(0).boom.ret();\nawait charm.waitQD();\nawait failing");
    expect(plain(r).slice(-2)).toEqual(["  awaited at:", `    at async cell-${count}.ts:3:1`]);
  });

  it("an unknown entry method and a function argument: the cell's line only", async () => {
    const unknown = await fails("\nawait throwers.at(1).nope.ret()");
    expect(plain(unknown)).toEqual([`CharmError: ${unknown.evalue}`, `    at cell-${count}.ts:2:27`]);
    const fn = await fails("await throwers.at(1).ping.ret(() => 1)");
    expect(plain(fn)).toEqual([`CharmError: ${fn.evalue}`, `    at cell-${count}.ts:1:27`]);
  });

  it("the notebook's own modules by their path relative to the notebook", async () => {
    const r = await fails('import { fail } from "./helper.ts";\nfail(3)');
    expect(plain(r)).toEqual(["Error: helper failed 3", "    at fail (helper.ts:2:9)", `    at cell-${count}.ts:2:1`]);
  });

  it("a thrown value that is not an Error says what was thrown, never just undefined", async () => {
    const r = await fails("\nthrow undefined");
    expect(r.ename).toBe("Uncaught");
    expect(r.evalue).toBe("threw undefined (not an Error: no stack)");
    expect(plain(r)).toEqual(["Uncaught: threw undefined (not an Error: no stack)"]);
  });

  it("CHARM4TS_FULL_STACKS=1 shows the runtime's frames too", async () => {
    // Read when a traceback is made, so a cell can turn it on (the cell thread's environment).
    await executor.execute('process.env.CHARM4TS_FULL_STACKS = "1"', recorder().hooks, { name: `cell-${++count}.ts` });
    const r = await fails("await throwers.at(1).boom.ret()");
    await executor.execute("delete process.env.CHARM4TS_FULL_STACKS", recorder().hooks, { name: `cell-${++count}.ts` });
    expect(plain(r).join("\n")).toMatch(/at Thrower\.boom \(cell-1\.ts:3:12\)\n\s+at EntryRunner\./);
    expect(plain(await fails("await throwers.at(1).boom.ret()")).join("\n")).not.toMatch(RUNTIME_FRAME);
  });

  it("a PE that dies under an awaited call: PeLostError at the cell's line, no runtime frame", async () => {
    const r = await fails("\nawait throwers.at(1).exitNow.ret()");
    expect(r.ename).toBe("PeLostError");
    expect(plain(r)).toEqual([`PeLostError: ${r.evalue}`, `    at async cell-${count}.ts:2:1`]);
  });
});

describe("tracebacks through the real kernel", () => {
  let k: LaunchedKernel;
  beforeAll(async () => {
    if (!existsSync(kernelScript())) throw new Error(`${kernelScript()} is missing: run \`npm run build\``);
    k = await launchKernel({ cwd: realpathSync(tempDir("tracebacks")), env: { ...process.env, CHARM4TS_PES: "2" } });
  });
  afterAll(() => k?.shutdown());

  async function error(code: string): Promise<{ ename: string; evalue: string; traceback: string[] }> {
    const x = await within(k.client.execute(code), 30_000, `the kernel running ${code.split("\n").at(-1)}`);
    const errors = x.iopub.filter((m) => m.header.msg_type === "error");
    expect(errors).toHaveLength(1);
    return errors[0]!.content as { ename: string; evalue: string; traceback: string[] };
  }

  it("a remote error and a PE process killed under an awaited call show the cell, not the runtime", async () => {
    await k.client.execute(`class Sleeper extends Chare {
  pid(): number { return process.pid; }
  boom(): number { throw new TypeError("remote boom"); }
  hold(): Promise<number> { return new Promise(() => {}); }
}`);
    const remote = await error("const sleepers = charm.array(Sleeper, 2);\nawait sleepers.at(1).boom.ret()");
    expect(remote.traceback.map((l) => l.replace(ANSI, ""))).toEqual([
      "RemoteError: TypeError: remote boom (raised on PE 1 in Sleeper[1].boom)",
      "  on PE 1, in Sleeper[1].boom:",
      expect.stringMatching(/^ {4}at Sleeper\.boom \(cell-1\.ts:3:\d+\)$/),
      "  awaited at:",
      "    at async cell-2.ts:2:1",
    ]);
    expect(remote.traceback[0]!.startsWith(RED)).toBe(true);
    expect(remote.evalue).not.toMatch(ANSI);

    await k.client.execute('await charm.restart({ transport: "processes", numPes: 2 })');
    const lost = await error("const held = charm.array(Sleeper, 2);\nconst pid = await held.at(1).pid.ret();\nconst waiting = held.at(1).hold.ret();\nprocess.kill(pid, \"SIGKILL\");\nawait waiting");
    expect(lost.ename).toBe("PeLostError");
    const lines = lost.traceback.map((l) => l.replace(ANSI, ""));
    expect(lines).toEqual([`PeLostError: ${lost.evalue}`, "    at async cell-4.ts:5:1"]);
    expect(lines.join("\n")).not.toMatch(RUNTIME_FRAME);
  });
});
