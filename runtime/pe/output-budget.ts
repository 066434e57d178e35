/**
 * How much of its printing a PE sends the driver: a burst for each cell's work, then a steady
 * rate (the notebook's own limit, CHARM4TS_OUTPUT_BURST_KB and CHARM4TS_OUTPUT_RATE_KB). A PE
 * printing as fast as it can would otherwise ship all of it, and the driver — one thread taking
 * every PE's messages — would queue what it can't take in time, without bound. What is held back
 * is counted here and kept in the PE's own recent output (print-through-driver.ts).
 */

/** Defaults: 1 MB at once, then 100 kB/s. */
export const DEFAULT_BURST_KB = 1024;
export const DEFAULT_RATE_KB = 100;

/** A burst and a rate, in bytes. */
export interface OutputRates {
  burstBytes: number;
  bytesPerSecond: number;
}

/** Reads `CHARM4TS_OUTPUT_BURST_KB` and `CHARM4TS_OUTPUT_RATE_KB` (kB, positive numbers); a bad value says which. */
export function outputRatesFromEnv(env: NodeJS.ProcessEnv = process.env): OutputRates {
  const kb = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`${name}=${JSON.stringify(raw)}: expected a positive number of kilobytes (default ${fallback})`);
    }
    return value;
  };
  return { burstBytes: kb("CHARM4TS_OUTPUT_BURST_KB", DEFAULT_BURST_KB) * 1024, bytesPerSecond: kb("CHARM4TS_OUTPUT_RATE_KB", DEFAULT_RATE_KB) * 1024 };
}

/** Bytes that may go out now, refilled at `bytesPerSecond` up to a cap given at each take. */
export class TokenBucket {
  private refilledAt: number;

  constructor(private tokens: number, private readonly bytesPerSecond: number, private readonly now: () => number) {
    this.refilledAt = now();
  }

  /** Takes `bytes` if there are that many. */
  take(bytes: number, cap: number): boolean {
    const now = this.now();
    this.tokens = Math.min(cap, this.tokens + ((now - this.refilledAt) / 1000) * this.bytesPerSecond);
    this.refilledAt = now;
    if (bytes > this.tokens) return false;
    this.tokens -= bytes;
    return true;
  }
}

/** Lines in `text` (a piece without a newline counts as one). */
export function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n > 0 ? n : 1;
}

/** What a PE held back since it last said so. */
export interface Withheld {
  lines: number;
  bytes: number;
}

/** One PE's budget: full again for each newer cell's work (a larger cause), else shared. */
export class OutputBudget {
  private bucket: TokenBucket;
  private cause = -1;
  private withheld: Withheld = { lines: 0, bytes: 0 };

  constructor(private readonly rates: OutputRates, private readonly now: () => number = () => performance.now()) {
    this.bucket = new TokenBucket(rates.burstBytes, rates.bytesPerSecond, now);
  }

  /** Whether `text`, written for work of cell `cause`, may be sent; if not, it is counted. */
  admit(text: string, cause: number): boolean {
    if (cause > this.cause) {
      this.cause = cause;
      this.bucket = new TokenBucket(this.rates.burstBytes, this.rates.bytesPerSecond, this.now);
    }
    const bytes = Buffer.byteLength(text);
    if (this.bucket.take(bytes, this.rates.burstBytes)) return true;
    this.withheld.lines += countLines(text);
    this.withheld.bytes += bytes;
    return false;
  }

  /** What was held back since the last call (undefined if nothing), counting from zero again. */
  takeWithheld(): Withheld | undefined {
    if (this.withheld.bytes === 0) return undefined;
    const taken = this.withheld;
    this.withheld = { lines: 0, bytes: 0 };
    return taken;
  }
}
