// Cell time limits: a `// @timeout` first line or CHARM4TS_CELL_TIMEOUT interrupts a cell that
// runs too long — awaiting forever or spinning — and the executor carries on with the next cell.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tmpdir } from "node:os";
import { CellExecutor } from "../../../kernel/cells/executor.ts";
import { timeLimitNotice, timeLimitOf } from "../../../kernel/cells/time-limit.ts";
import { recorder } from "./helpers.ts";

describe("timeLimitOf", () => {
  it.each([
    ["// @timeout 30s\nwork()", 30_000],
    ["// @timeout 500ms\nwork()", 500],
    ["  //   @timeout 2m  \nwork()", 120_000],
    ["// @timeout 1.5\nwork()", 1500],
    ["work()\n// @timeout 3s", undefined],
    ["work()", undefined],
  ])("%j → %s", (code, ms) => expect(timeLimitOf(code, {})).toBe(ms));

  it("uses CHARM4TS_CELL_TIMEOUT (seconds) when the cell names none, and the cell's own first", () => {
    expect(timeLimitOf("work()", { CHARM4TS_CELL_TIMEOUT: "20" })).toBe(20_000);
    expect(timeLimitOf("// @timeout 1s\nwork()", { CHARM4TS_CELL_TIMEOUT: "20" })).toBe(1000);
    expect(timeLimitOf("work()", { CHARM4TS_CELL_TIMEOUT: "none" })).toBeUndefined();
    expect(timeLimitOf("work()", { CHARM4TS_CELL_TIMEOUT: "0" })).toBeUndefined();
  });

  it("refuses a limit it can't read, saying what it expected", () => {
    expect(() => timeLimitOf("// @timeout soon\nwork()", {})).toThrow("// @timeout soon: expected a time such as // @timeout 30s, 500ms or 2m");
    expect(() => timeLimitOf("//@timeout 5 minutes\nwork()", {})).toThrow(/expected a time/);
    expect(() => timeLimitOf("work()", { CHARM4TS_CELL_TIMEOUT: "1m" })).toThrow('CHARM4TS_CELL_TIMEOUT="1m": expected seconds (such as 60), or "none"');
  });

  it("says the limit in the unit it was given", () => {
    expect(timeLimitNotice(120_000)).toContain("2 min");
    expect(timeLimitNotice(30_000)).toContain("30 s");
    expect(timeLimitNotice(500)).toContain("500 ms");
  });
});

describe("a cell over its time limit", () => {
  let executor: CellExecutor;
  beforeAll(async () => {
    executor = await CellExecutor.start({ cwd: tmpdir(), typeCheck: false });
    // A limit counts from the request, so the first cell's own start-up (the PEs, the cell
    // machinery; seconds on a loaded machine) is paid here, not inside a 300 ms limit.
    await executor.execute("0", recorder().hooks);
  });
  afterAll(() => executor.close());

  it("awaiting forever: interrupted, told why, and the next cell runs", async () => {
    const r = recorder();
    const result = await executor.execute("// @timeout 300ms\nconsole.log('started');\nawait new Promise(() => {})", r.hooks);
    expect(result).toMatchObject({ status: "error", ename: "Interrupted" });
    expect(r.stdout()).toBe("started\n");
    expect(r.stderr()).toContain("time limit of 300 ms");
    expect(await executor.execute("1 + 1", recorder().hooks)).toMatchObject({ status: "ok", value: { data: { "text/plain": "2" } } });
  });

  it("spinning in an endless loop: stopped the same way, state kept", async () => {
    await executor.execute("let kept = 'still here';", recorder().hooks);
    const r = recorder();
    const result = await executor.execute("// @timeout 300ms\nfor (;;) {}", r.hooks);
    expect(result).toMatchObject({ status: "error", ename: "Interrupted" });
    expect(r.stderr()).toContain("time limit of 300 ms");
    expect(await executor.execute("kept", recorder().hooks)).toMatchObject({ status: "ok", value: { data: { "text/plain": "'still here'" } } });
  });

  it("a limit it can't read is said in the cell, which runs without one", async () => {
    const r = recorder();
    expect(await executor.execute("// @timeout soon\n40 + 2", r.hooks)).toMatchObject({ status: "ok", value: { data: { "text/plain": "42" } } });
    expect(r.stderr()).toBe("charm4ts: // @timeout soon: expected a time such as // @timeout 30s, 500ms or 2m; this cell runs without a time limit.\n");
  });

  it("a cell that finishes in time is not touched", async () => {
    const r = recorder();
    expect(await executor.execute("// @timeout 5s\n40 + 2", r.hooks)).toMatchObject({ status: "ok", value: { data: { "text/plain": "42" } } });
    expect(r.stderr()).toBe("");
  });
});
