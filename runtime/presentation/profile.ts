/**
 * Per-entry-method profiling (Charm4Py's printStats): `await charm.profile(work)` runs `work`
 * with the PEs recording their entry methods and returns calls and time per method, summed over
 * the PEs and per PE — a table in a notebook, `print()` / `toString()` in a script.
 */
import { MIME_BUNDLE, htmlTable } from "./display.ts";
import { timeline } from "./trace.ts";
import type { TraceEvent } from "../core/entry-trace.ts";

/** One entry method's numbers. */
export interface MethodStats {
  method: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  maxMs: number;
  /** Time per PE, in PE order. */
  perPeMs: number[];
  /** Approximate bytes of arguments received, over all calls. */
  bytes: number;
}

/** Profiling statistics of a piece of work, by entry method. */
export class Profile {
  readonly methods: MethodStats[];

  /** `dead`: PEs dead by the end, with why (their work is missing from the numbers). */
  constructor(events: readonly TraceEvent[], readonly numPes: number, readonly elapsedMs: number, readonly dead: ReadonlyMap<number, string> = new Map()) {
    const byMethod = new Map<string, MethodStats>();
    for (const e of events) {
      let s = byMethod.get(e.label);
      if (!s) byMethod.set(e.label, (s = { method: e.label, calls: 0, totalMs: 0, meanMs: 0, maxMs: 0, perPeMs: new Array(numPes).fill(0), bytes: 0 }));
      const ms = e.end - e.start;
      s.calls++;
      s.bytes += e.bytes;
      s.totalMs += ms;
      s.maxMs = Math.max(s.maxMs, ms);
      s.perPeMs[e.pe] = (s.perPeMs[e.pe] ?? 0) + ms;
    }
    for (const s of byMethod.values()) s.meanMs = s.totalMs / s.calls;
    this.methods = [...byMethod.values()].sort((a, b) => b.totalMs - a.totalMs);
  }

  private rows(): string[][] {
    return this.methods.map((s) => [s.method, String(s.calls), s.totalMs.toFixed(3), (s.meanMs * 1000).toFixed(1), (s.maxMs * 1000).toFixed(1), formatBytes(s.bytes), s.perPeMs.map((ms, pe) => (this.dead.has(pe) ? "dead" : ms.toFixed(2))).join(" / ")]);
  }

  /** The statistics as a text table. */
  toString(): string {
    const header = ["entry method", "calls", "total ms", "mean µs", "max µs", "arg bytes", `ms per PE (0…${this.numPes - 1})`];
    const rows = this.rows();
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
    return [this.caption(), line(header), ...rows.map(line)].join("\n");
  }

  private caption(): string {
    const dead = [...this.dead].map(([pe, why]) => `; PE ${pe} dead (${why}), its calls not counted`).join("");
    return `profile: ${this.elapsedMs.toFixed(1)} ms of work on ${this.numPes} PEs${dead}`;
  }

  /** Prints the table (scripts). */
  print(): void {
    console.log(this.toString());
  }

  [MIME_BUNDLE](): Record<string, string> {
    const header = ["entry method", "calls", "total ms", "mean µs", "max µs", "arg bytes", "ms per PE"];
    return { "text/plain": this.toString(), "text/html": htmlTable(this.caption(), header, this.rows()) };
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Runs `work` and returns its per-entry-method statistics. */
export async function profile(work: () => unknown): Promise<Profile> {
  const t = await timeline(work);
  return new Profile(t.events, t.numPes, t.end - t.start, t.dead);
}
