import { describe, expect, it } from "vitest";
import { StreamLimit, limitFromEnv } from "../../../kernel/cells/worker/stream-limit.ts";
import { PeOutputLog } from "../../../kernel/interactive/pe-output.ts";

function limited(burstBytes: number, bytesPerSecond: number) {
  const clock = { ms: 0 };
  const limit = new StreamLimit({ burstBytes, bytesPerSecond, summaryEveryMs: 5000, now: () => clock.ms });
  return { limit, clock };
}

describe("the rate limit on a cell's printed output", () => {
  it("lets a burst through, then the rate, and counts the rest per source", () => {
    const { limit, clock } = limited(100, 10);
    const line = "x".repeat(9) + "\n"; // 10 bytes
    let shown = 0;
    for (let i = 0; i < 20; i++) if (limit.admit(3, line)) shown++;
    expect(shown).toBe(10);
    clock.ms = 1000; // one second refills 10 bytes: one more line
    expect(limit.admit("cell", line)).toBe(true);
    expect(limit.admit("cell", line + line)).toBe(false);
    const summary = limit.endCell();
    expect(summary).toContain("… 10 lines (100 B) from PE 3 not shown in this cell; charm.output(3) returns its last lines\n");
    expect(summary).toContain("… 2 lines (20 B) printed by the cell not shown in this cell\n");
    expect(summary).toContain("(100 B at once, then 10 B/s per cell)");
    expect(limit.endCell()).toBe("");
  });

  it("says what it dropped every few seconds while dropping, with the totals so far", () => {
    const { limit, clock } = limited(0.5, 0.001);
    limit.admit(1, "a\n");
    expect(limit.summaryIfDue()).toBe("");
    clock.ms = 5000;
    expect(limit.summaryIfDue()).toContain("… 1 line (2 B) from PE 1 not shown so far");
    expect(limit.summaryIfDue()).toBe(""); // nothing new
    limit.admit(1, "b\nc\n");
    clock.ms = 10_000;
    expect(limit.summaryIfDue()).toContain("… 3 lines (6 B) from PE 1 not shown so far");
    expect(limit.endCell()).toContain("… 3 lines (6 B) from PE 1 not shown in this cell");
  });

  it("counts output dropped after a cell ended apart, and refills for the next cell", () => {
    const { limit } = limited(10, 0.001);
    expect(limit.admit(0, "0123456789")).toBe(true);
    limit.endCell();
    expect(limit.admit(0, "late\n")).toBe(false);
    expect(limit.startCell()).toContain("… 1 line (5 B) from PE 0 not shown after it ended");
    expect(limit.admit(0, "0123456789")).toBe(true);
  });

  it("gives output of an earlier cell's work the rate but no burst, and no new budget with each cell", () => {
    const { limit, clock } = limited(1000, 10);
    expect(limit.admit(2, "x".repeat(11), true)).toBe(false); // one second's worth at most
    expect(limit.admit(2, "x".repeat(10), true)).toBe(true);
    limit.startCell();
    expect(limit.admit(2, "y", true)).toBe(false);
    expect(limit.admit("cell", "x".repeat(1000))).toBe(true); // the cell's own burst is untouched
    clock.ms = 500;
    expect(limit.admit(2, "x".repeat(5), true)).toBe(true);
  });

  it("reads its limit from the environment, naming a bad variable", () => {
    expect(limitFromEnv({})).toMatchObject({ burstBytes: 1024 * 1024, bytesPerSecond: 100 * 1024 });
    expect(limitFromEnv({ CHARM4TS_OUTPUT_RATE_KB: "20", CHARM4TS_OUTPUT_BURST_KB: "64" })).toMatchObject({ burstBytes: 64 * 1024, bytesPerSecond: 20 * 1024 });
    expect(() => limitFromEnv({ CHARM4TS_OUTPUT_RATE_KB: "fast" })).toThrow(/CHARM4TS_OUTPUT_RATE_KB="fast": expected a positive number of kilobytes/);
  });
});

describe("the last lines each PE printed", () => {
  it("keeps lines without their marks, joins partial writes, and keeps only the last 10,000", () => {
    const log = new PeOutputLog();
    log.add(2, "[PE 2] hello\n[PE 2] par");
    log.add(2, "tial\n");
    log.add(1, "[PE 1] other\n");
    expect(log.last(2)).toEqual(["hello", "partial"]);
    expect(log.last(1)).toEqual(["other"]);
    expect(log.last(5)).toEqual([]);
    for (let i = 0; i < 25_000; i++) log.add(3, `[PE 3] line ${i}\n`);
    const kept = log.last(3);
    expect(kept).toHaveLength(10_000);
    expect(kept[0]).toBe("line 15000");
    expect(kept.at(-1)).toBe("line 24999");
    expect(log.last(3, 2)).toEqual(["line 24998", "line 24999"]);
  });

  it("bounds what one PE keeps by characters too: long lines are cut, old ones dropped", () => {
    const log = new PeOutputLog();
    for (let i = 0; i < 1000; i++) log.add(0, `[PE 0] ${"y".repeat(50_000)}\n`);
    const kept = log.last(0);
    expect(kept[0]).toMatch(/^y{10000}… \(50,000 characters\)$/);
    expect(kept.join("").length).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});
