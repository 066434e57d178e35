/**
 * The rate limit on a cell's printed output (its own and its PEs'): a token bucket of bytes, a
 * burst and then a steady rate. What goes over it is dropped here, in the cell thread, before it
 * is posted to the kernel's thread, so a flood costs neither the kernel's memory nor the
 * frontend's: only counted per source and summarised, while the cell runs and when it ends.
 */

/** The limit: `burstBytes` at once, then `bytesPerSecond`. */
export interface StreamLimitOptions {
  burstBytes: number;
  bytesPerSecond: number;
  /** How often a running cell that is dropping output says so. */
  summaryEveryMs: number;
  /** Milliseconds, monotonic (tests pass their own clock). */
  now(): number;
}

/** Defaults: 1 MB at once, then 100 kB/s, a summary every 5 s while dropping. */
export const DEFAULT_BURST_KB = 1024;
export const DEFAULT_RATE_KB = 100;
const SUMMARY_EVERY_MS = 5000;

/** A source of output: a PE's number, or the cell's own thread. */
export type OutputSource = number | "cell";

interface Dropped {
  lines: number;
  bytes: number;
}

/** Reads `CHARM4TS_OUTPUT_RATE_KB` and `CHARM4TS_OUTPUT_BURST_KB` (kB, positive numbers); a bad value says which. */
export function limitFromEnv(env: NodeJS.ProcessEnv = process.env): StreamLimitOptions {
  const kb = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`${name}=${JSON.stringify(raw)}: expected a positive number of kilobytes (default ${fallback})`);
    }
    return value;
  };
  return {
    burstBytes: kb("CHARM4TS_OUTPUT_BURST_KB", DEFAULT_BURST_KB) * 1024,
    bytesPerSecond: kb("CHARM4TS_OUTPUT_RATE_KB", DEFAULT_RATE_KB) * 1024,
    summaryEveryMs: SUMMARY_EVERY_MS,
    now: () => performance.now(),
  };
}

/** Bytes that may be shown now, refilled over time up to a cap. */
class Bucket {
  private refilledAt: number;

  constructor(private tokens: number, private readonly options: StreamLimitOptions) {
    this.refilledAt = options.now();
  }

  /** Takes `bytes` if there are that many. */
  take(bytes: number, cap: number): boolean {
    const now = this.options.now();
    this.tokens = Math.min(cap, this.tokens + ((now - this.refilledAt) / 1000) * this.options.bytesPerSecond);
    this.refilledAt = now;
    if (bytes > this.tokens) return false;
    this.tokens -= bytes;
    return true;
  }
}

/**
 * One cell's budget; `startCell` refills it for the next. Output of an earlier cell's work (a PE
 * still printing after that cell ended) has a budget of its own, one second's worth at most and
 * never refilled by a new cell, so a flood that outlives its cell doesn't get a burst in each.
 */
export class StreamLimit {
  private cell: Bucket;
  private readonly earlier: Bucket;
  private summarisedAt: number;
  /** Dropped in this cell (or since it ended), per source, in the order sources first dropped. */
  private readonly dropped = new Map<OutputSource, Dropped>();
  /** Whether something was dropped since the last summary. */
  private news = false;

  constructor(private readonly options: StreamLimitOptions) {
    this.cell = new Bucket(options.burstBytes, options);
    this.earlier = new Bucket(options.bytesPerSecond, options);
    this.summarisedAt = options.now();
  }

  /** A new cell: a full burst, and nothing dropped. Returns what the last one dropped after it ended ("" if nothing). */
  startCell(): string {
    const left = this.summary("after it ended");
    this.dropped.clear();
    this.cell = new Bucket(this.options.burstBytes, this.options);
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
    const counted = this.dropped.get(source) ?? { lines: 0, bytes: 0 };
    counted.lines += countLines(text);
    counted.bytes += bytes;
    this.dropped.set(source, counted);
    this.news = true;
    return false;
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

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n > 0 ? n : 1;
}

/** "56 MB", "100 kB", "512 B" (binary multiples, as the limit is set in kB of 1024 bytes). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} kB`;
  return `${Math.round(bytes)} B`;
}
