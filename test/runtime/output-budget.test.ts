// A PE's own output budget: a burst for each newer cell's work, then the rate; what is held back is counted.
import { describe, expect, it } from "vitest";
import { OutputBudget, outputRatesFromEnv } from "../../runtime/pe/output-budget.ts";
import { OutputRing } from "../../runtime/pe/output-ring.ts";

describe("a PE's output budget", () => {
  it("sends a burst, then the rate, counts what it holds back, and starts full again for a newer cell", () => {
    const clock = { ms: 0 };
    const budget = new OutputBudget({ burstBytes: 100, bytesPerSecond: 10 }, () => clock.ms);
    const line = "x".repeat(9) + "\n"; // 10 bytes
    const sent = Array.from({ length: 15 }, () => budget.admit(line, 1)).filter(Boolean).length;
    expect(sent).toBe(10);
    expect(budget.takeWithheld()).toEqual({ lines: 5, bytes: 50 });
    expect(budget.takeWithheld()).toBeUndefined();
    clock.ms = 1000; // a second: one line's worth
    expect(budget.admit(line, 1)).toBe(true);
    expect(budget.admit(line, 1)).toBe(false);
    // An earlier cell's work shares the budget; a newer cell's gets a full burst.
    expect(budget.admit(line, 0)).toBe(false);
    expect(Array.from({ length: 10 }, () => budget.admit(line, 2)).every(Boolean)).toBe(true);
    expect(budget.takeWithheld()).toEqual({ lines: 2, bytes: 20 });
  });

  it("reads its rates from the notebook's settings, and names a bad one", () => {
    expect(outputRatesFromEnv({})).toEqual({ burstBytes: 1024 * 1024, bytesPerSecond: 100 * 1024 });
    expect(outputRatesFromEnv({ CHARM4TS_OUTPUT_RATE_KB: "5", CHARM4TS_OUTPUT_BURST_KB: "50" })).toEqual({ burstBytes: 50 * 1024, bytesPerSecond: 5 * 1024 });
    expect(() => outputRatesFromEnv({ CHARM4TS_OUTPUT_RATE_KB: "fast" })).toThrow(/CHARM4TS_OUTPUT_RATE_KB="fast": expected a positive number of kilobytes/);
  });

  it("the recent output a PE keeps is its last lines, as one text the kernel can take in place of its own", () => {
    const ring = new OutputRing();
    for (let i = 0; i < 12_000; i++) ring.push(`[PE 1] line ${i}\n`);
    const copy = new OutputRing();
    copy.push(ring.text());
    expect(copy.last(1, 3)).toEqual(["line 11997", "line 11998", "line 11999"]);
    const kept = copy.last(1, 10_000);
    expect(kept).toHaveLength(10_000);
    expect(kept[0]).toBe("line 2000");
  });
});
