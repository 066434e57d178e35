/**
 * A timeline of entry-method executions per PE, in the spirit of Charm++ Projections. While
 * tracing is on, each PE records when every entry method's synchronous part ran (absolute
 * times, so threads line up); `charm.timeline(work)` gathers the events and shows them as an
 * SVG with one row per PE, plus a text summary for terminals.
 */
import { rt } from "../core/current.ts";
import { Tracer, type TraceEvent } from "../core/entry-trace.ts";
import { MIME_BUNDLE, escapeHtml, htmlTable } from "./display.ts";
import { askEveryPe } from "../core/ask-pes.ts";

/** A timeline ready to display. */
export class Timeline {
  /** `dead`: PEs dead by the end, with why (what they ran is missing). */
  constructor(readonly events: TraceEvent[], readonly numPes: number, readonly start: number, readonly end: number, readonly dead: ReadonlyMap<number, string> = new Map()) {}

  /** "; PE 1 dead (exited with code 3)", or "" while all are alive. */
  private deadNote(): string {
    return [...this.dead].map(([pe, why]) => `; PE ${pe} dead (${why})`).join("");
  }

  /** Busy time and executions per PE and method. */
  summary(): Array<{ pe: number; label: string; count: number; busyMs: number }> {
    const byKey = new Map<string, { pe: number; label: string; count: number; busyMs: number }>();
    for (const e of this.events) {
      const key = `${e.pe}|${e.label}`;
      const s = byKey.get(key) ?? { pe: e.pe, label: e.label, count: 0, busyMs: 0 };
      s.count++;
      s.busyMs += e.end - e.start;
      byKey.set(key, s);
    }
    return [...byKey.values()].sort((a, b) => a.pe - b.pe || b.busyMs - a.busyMs);
  }

  /** The SVG: a row per PE, a bar per execution, colour per entry method. */
  svg(): string {
    const width = 760, rowH = 22, left = 50, top = 20;
    const span = Math.max(this.end - this.start, 1e-3);
    const labels = [...new Set(this.events.map((e) => e.label))];
    const color = (label: string) => `hsl(${(labels.indexOf(label) * 137) % 360},65%,50%)`;
    const x = (t: number) => left + ((t - this.start) / span) * (width - left - 10);
    // A dead PE's row is red, with why in its tooltip: an empty row must not pass for an idle PE.
    const why = (pe: number) => this.dead.has(pe) ? `<title>PE ${pe} is dead: ${escapeHtml(this.dead.get(pe)!)}</title>` : "";
    const rows = Array.from({ length: this.numPes }, (_, pe) =>
      `<text x="4" y="${top + pe * rowH + 15}" font-size="12"${this.dead.has(pe) ? ' fill="#b00"' : ""}>PE ${pe}${why(pe)}</text><rect x="${left}" y="${top + pe * rowH + 2}" width="${width - left - 10}" height="${rowH - 4}" fill="${this.dead.has(pe) ? "#fbe3e3" : "#f3f3f3"}">${why(pe)}</rect>`);
    const bars = this.events.map((e) =>
      `<rect x="${x(e.start).toFixed(1)}" y="${top + e.pe * rowH + 2}" width="${Math.max(x(e.end) - x(e.start), 0.5).toFixed(1)}" height="${rowH - 4}" fill="${color(e.label)}"><title>${escapeHtml(e.label)} ${(e.end - e.start).toFixed(3)} ms</title></rect>`);
    const legendY = top + this.numPes * rowH + 16;
    const legend = labels.map((l, i) => `<rect x="${left + (i % 4) * 175}" y="${legendY + Math.floor(i / 4) * 16 - 9}" width="10" height="10" fill="${color(l)}"/><text x="${left + (i % 4) * 175 + 14}" y="${legendY + Math.floor(i / 4) * 16}" font-size="11">${escapeHtml(l)}</text>`);
    const height = legendY + Math.ceil(labels.length / 4) * 16 + 4;
    const axis = `<text x="${left}" y="14" font-size="11">0 ms</text><text x="${width - 10}" y="14" font-size="11" text-anchor="end">${span.toFixed(2)} ms</text>`;
    // viewBox: scales down in an output narrower than `width` instead of being cut off (chart.ts).
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">${axis}${rows.join("")}${bars.join("")}${legend.join("")}</svg>`;
  }

  [MIME_BUNDLE](): Record<string, string> {
    const rows = this.summary().map((s) => [String(s.pe), s.label, String(s.count), s.busyMs.toFixed(3)]);
    const caption = `timeline: ${this.events.length} entry-method executions over ${(this.end - this.start).toFixed(2)} ms${this.deadNote()}`;
    const text = [caption, ...rows.map((r) => `  PE ${r[0]}  ${r[1]}  ×${r[2]}  ${r[3]} ms`)].join("\n");
    return { "text/plain": text, "image/svg+xml": this.svg(), "text/html": this.svg() + htmlTable("busy time per PE and entry method", ["PE", "entry method", "calls", "ms"], rows) };
  }
}

/** Turns tracing on or off on every live PE; their events so far, and the PEs that are dead. */
async function toggleEverywhere(on: boolean): Promise<{ events: TraceEvent[]; dead: Map<number, string> }> {
  const { answers, dead } = await askEveryPe<TraceEvent[]>((fid) => ({ t: "trace", on, fid }), "charm.timeline()");
  return { events: answers.flat(), dead };
}

/** Runs `work` with tracing on every PE and returns its timeline (waits for quiescence first). */
export async function timeline(work: () => unknown): Promise<Timeline> {
  await toggleEverywhere(true);
  const start = Tracer.now();
  let answered: { events: TraceEvent[]; dead: Map<number, string> };
  try {
    await work();
    await rt().quiescence.whenQuiet();
  } finally {
    answered = await toggleEverywhere(false);
  }
  const end = Tracer.now();
  // A PE dead at the start is dead at the end too: the second answer has all the dead.
  const { events, dead } = answered;
  return new Timeline(events, rt().numPes, start, Math.max(end, ...events.map((e) => e.end)), dead);
}
