/**
 * The rate limit on a cell's printed output (its own and its PEs'): a token bucket of bytes, a
 * burst and then a steady rate. What goes over it is dropped here, in the cell thread, before it
 * is posted to the kernel's thread, so a flood costs neither the kernel's memory nor the
 * frontend's: only counted per source and summarised, while the cell runs and when it ends.
 */
import { DEFAULT_BURST_KB, DEFAULT_RATE_KB, TokenBucket, countLines, outputRatesFromEnv } from "../../../runtime/embedding.ts";

/** The limit: `burstBytes` at once, then `bytesPerSecond`. */
export interface StreamLimitOptions {
  burstBytes: number;
  bytesPerSecond: number;
  /** How often a running cell that is dropping output says so. */
  summaryEveryMs: number;
  /** Milliseconds, monotonic (tests pass their own clock). */
  now(): number;
}

/** Defaults: 1 MB at once, then 100 kB/s per cell (the PEs' own budgets use the same). */
export { DEFAULT_BURST_KB, DEFAULT_RATE_KB };
const SUMMARY_EVERY_MS = 5000;

/** A source of output: a PE's number, or the cell's own thread. */
export type OutputSource = number | "cell";

interface Dropped {
  lines: number;
  bytes: number;
}

/** Reads `CHARM4TS_OUTPUT_RATE_KB` and `CHARM4TS_OUTPUT_BURST_KB` (kB, positive numbers); a bad value says which. */
export function limitFromEnv(env: NodeJS.ProcessEnv = process.env): StreamLimitOptions {
  return { ...outputRatesFromEnv(env), summaryEveryMs: SUMMARY_EVERY_MS, now: () => performance.now() };
}

/**
 * One cell's budget; `startCell` refills it for the next. Output of an earlier cell's work (a PE
 * still printing after that cell ended) has a budget of its own, one second's worth at most and
 * never refilled by a new cell, so a flood that outlives its cell doesn't get a burst in each.
 */
export class StreamLimit {
  private cell: TokenBucket;
  private readonly earlier: TokenBucket;
  private summarisedAt: number;
  /** Dropped in this cell (or since it ended), per source, in the order sources first dropped. */
  private readonly dropped = new Map<OutputSource, Dropped>();
  /** Whether something was dropped since the last summary. */
  private news = false;

  constructor(private readonly options: StreamLimitOptions) {
    this.cell = new TokenBucket(options.burstBytes, options.bytesPerSecond, options.now);
    this.earlier = new TokenBucket(options.bytesPerSecond, options.bytesPerSecond, options.now);
    this.summarisedAt = options.now();
  }

  /** A new cell: a full burst, and nothing dropped. Returns what the last one dropped after it ended ("" if nothing). */
  startCell(): string {
    const left = this.summary("after it ended");
    this.dropped.clear();
    this.cell = new TokenBucket(this.options.burstBytes, this.options.bytesPerSecond, this.options.now);
    this.summarisedAt = this.options.now();
    return left;
  }

  /** The cell ended: what it dropped in all ("" if nothing); output after this counts apart. */
  endCell(): string {
    const total = this.summary("in this cell");
    this.dropped.clear();
    return total;
  }

  /** Whether `text` from `source` may be shown (`earlier`: caused by an earlier cell's work); if not, it is counted. */
  admit(source: OutputSource, text: string, earlier = false): boolean {
    const bytes = Buffer.byteLength(text);
    const shown = earlier ? this.earlier.take(bytes, this.options.bytesPerSecond) : this.cell.take(bytes, this.options.burstBytes);
    if (shown) return true;
    this.count(source, countLines(text), bytes);
    return false;
  }

  /** Counts output `source` dropped before it got here (a PE over its own budget). */
  count(source: OutputSource, lines: number, bytes: number): void {
    const counted = this.dropped.get(source) ?? { lines: 0, bytes: 0 };
    counted.lines += lines;
    counted.bytes += bytes;
    this.dropped.set(source, counted);
    this.news = true;
  }

  /** While output is being dropped: the summary so far, once per `summaryEveryMs` ("" otherwise). */
  summaryIfDue(): string {
    if (!this.news || this.options.now() - this.summarisedAt < this.options.summaryEveryMs) return "";
    return this.summary("so far");
  }

  /** The totals dropped, one line per source ("" if nothing). */
  private summary(when: "so far" | "in this cell" | "after it ended"): string {
    if (this.dropped.size === 0) return "";
    this.summarisedAt = this.options.now();
    this.news = false;
    const limit = `${formatBytes(this.options.burstBytes)} at once, then ${formatBytes(this.options.bytesPerSecond)}/s per cell`;
    const lines = [...this.dropped].map(([source, { lines, bytes }]) => {
      const what = `${lines.toLocaleString("en-US")} line${lines === 1 ? "" : "s"} (${formatBytes(bytes)})`;
      return source === "cell"
        ? `… ${what} printed by the cell not shown ${when}\n`
        : `… ${what} from PE ${source} not shown ${when}; charm.output(${source}) returns its last lines\n`;
    });
    return `${lines.join("")}charm4ts: output over the notebook's limit (${limit}) is dropped; CHARM4TS_OUTPUT_RATE_KB and CHARM4TS_OUTPUT_BURST_KB change it.\n`;
  }
}

/** "56 MB", "100 kB", "512 B" (binary multiples, as the limit is set in kB of 1024 bytes). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} kB`;
  return `${Math.round(bytes)} B`;
}
