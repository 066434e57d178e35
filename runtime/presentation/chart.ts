/**
 * Small dependency-free charts for notebooks: grouped bars (a value per PE, before/after) and
 * lines (time per step). Each returns a `Chart` that shows itself as SVG in a notebook and as a
 * table of its numbers in a terminal.
 */
import { CharmError } from "../protocol/errors.ts";
import { MIME_BUNDLE, escapeHtml } from "./display.ts";

/** Named series of numbers: `{ before: [..], after: [..] }`. */
export type SeriesSet = Record<string, readonly number[]>;

/** Labels common to both kinds of chart. */
export interface ChartOptions {
  title?: string;
  /** The values' unit, shown on the y axis ("ms"). */
  unit?: string;
}

/** Options of a bar chart. */
export interface BarOptions extends ChartOptions {
  /** One label per bar group (default: "PE 0", "PE 1", …). */
  categories?: readonly string[];
}

/** Options of a line chart. */
export interface LineOptions extends ChartOptions {
  /** The x axis label (default: "step"); points are at x = 1, 2, … */
  xLabel?: string;
}

/** The symbol a notebook looks for on values it can show as an HTML widget (kernel/widgets/live-view.ts). */
export const WIDGET_HTML: unique symbol = Symbol.for("charm4ts.widgetHtml") as any;

const COLORS = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2"];
const W = 560, H = 260, LEFT = 56, RIGHT = 12, TOP = 28, BOTTOM = 44;

/** A chart ready to display: SVG in a notebook, its numbers as text elsewhere. */
export class Chart {
  constructor(readonly svg: string, readonly text: string) {}
  toString(): string {
    return this.text;
  }
  /** What a notebook with a widget frontend shows in an HTML widget, so `display(chart).update(next)` redraws in place. */
  [WIDGET_HTML](): string {
    return this.svg;
  }
  [MIME_BUNDLE](): Record<string, string> {
    return { "text/plain": this.text, "image/svg+xml": this.svg, "text/html": this.svg };
  }
}

function checkSeries(fn: string, series: SeriesSet): Array<[string, readonly number[]]> {
  const entries = Object.entries(series ?? {});
  if (entries.length === 0) throw new CharmError(`${fn}(series): give at least one named series, e.g. { before: [1, 2], after: [1.5, 1.5] }`);
  for (const [name, values] of entries) {
    if (!Array.isArray(values) && !ArrayBuffer.isView(values)) throw new CharmError(`${fn}(series): series "${name}" must be an array of numbers`);
    const bad = Array.from(values).findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
    if (bad >= 0) throw new CharmError(`${fn}(series): series "${name}"[${bad}] is ${String(values[bad])}, not a finite number`);
  }
  return entries.map(([name, values]) => [name, Array.from(values)]);
}

/** A round axis top at or above `max` whose fifths are round too (250 → 50s, 3 → 0.6s). */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return ([1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * p >= max * (1 - 1e-12)) ?? 10) * p;
}

const fmt = (v: number) => (Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/** The frame shared by both charts: title, y axis with 5 gridlines (round steps for a nice top), legend. */
function frame(top: number, options: ChartOptions, names: string[], xLabel: string): string {
  const plotH = H - TOP - BOTTOM;
  const grid = [0, 1, 2, 3, 4, 5].map((k) => {
    const y = TOP + plotH - (k / 5) * plotH;
    return `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${LEFT - 4}" y="${y + 4}" font-size="11" text-anchor="end">${fmt((top * k) / 5)}</text>`;
  });
  // Legend entries side by side, each as wide as its name (about 6.5 px a character at 11 px).
  let x = LEFT;
  const legend = names.map((n, i) => {
    const entry = `<rect x="${x}" y="${H - 14}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${x + 14}" y="${H - 5}" font-size="11">${escapeHtml(n)}</text>`;
    x += 30 + Math.ceil(n.length * 6.5);
    return entry;
  });
  const title = options.title ? `<text x="${LEFT}" y="16" font-size="13" font-weight="bold">${escapeHtml(options.title)}</text>` : "";
  const unit = options.unit ? `<text x="12" y="${TOP + plotH / 2}" font-size="11" transform="rotate(-90 12 ${TOP + plotH / 2})" text-anchor="middle">${escapeHtml(options.unit)}</text>` : "";
  const xl = `<text x="${(LEFT + W - RIGHT) / 2}" y="${H - 20}" font-size="11" text-anchor="middle">${escapeHtml(xLabel)}</text>`;
  return title + unit + grid.join("") + xl + legend.join("");
}

function svg(body: string): string {
  // The viewBox lets the drawing scale: frontends cap output SVGs at max-width: 100% (the
  // classic Notebook, JupyterLab), and without one a narrow output would cut off its right side.
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">${body}</svg>`;
}

function textTable(options: ChartOptions, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const caption = [options.title, options.unit && `(${options.unit})`].filter(Boolean).join(" ");
  return [...(caption ? [caption] : []), line(header), ...rows.map(line)].join("\n");
}

/** Grouped bars: one group per category (PE), one bar per series — e.g. load before and after balancing. */
export function barChart(series: SeriesSet, options: BarOptions = {}): Chart {
  const entries = checkSeries("barChart", series);
  const n = Math.max(...entries.map(([, v]) => v.length));
  const categories = options.categories ?? Array.from({ length: n }, (_, i) => `PE ${i}`);
  if (categories.length < n) throw new CharmError(`barChart: options.categories has ${categories.length} labels for ${n} bars per series; give one label per bar`);
  const top = niceMax(Math.max(...entries.flatMap(([, v]) => v)));
  const plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
  const groupW = plotW / Math.max(n, 1), barW = (groupW * 0.8) / entries.length;
  const bars = entries.flatMap(([name, values], s) => values.map((v, i) => {
    const h = (Math.max(v, 0) / top) * plotH;
    const x = LEFT + i * groupW + groupW * 0.1 + s * barW;
    return `<rect class="bar" x="${x.toFixed(1)}" y="${(TOP + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[s % COLORS.length]}"><title>${escapeHtml(`${name}, ${categories[i]}: ${fmt(v)}${options.unit ? ` ${options.unit}` : ""}`)}</title></rect>`;
  }));
  const labels = categories.slice(0, n).map((c, i) => `<text x="${(LEFT + i * groupW + groupW / 2).toFixed(1)}" y="${TOP + plotH + 13}" font-size="11" text-anchor="middle">${escapeHtml(c)}</text>`);
  const rows = categories.slice(0, n).map((c, i) => [c, ...entries.map(([, v]) => (v[i] === undefined ? "" : fmt(v[i]!)))]);
  return new Chart(svg(frame(top, options, entries.map(([k]) => k), "") + bars.join("") + labels.join("")), textTable(options, ["", ...entries.map(([k]) => k)], rows));
}

/** Lines over steps: one polyline per series, a point per value — e.g. time per step with and without balancing. */
export function lineChart(series: SeriesSet, options: LineOptions = {}): Chart {
  const entries = checkSeries("lineChart", series);
  const n = Math.max(...entries.map(([, v]) => v.length));
  const top = niceMax(Math.max(...entries.flatMap(([, v]) => v)));
  const plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
  const x = (i: number) => LEFT + (n <= 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const y = (v: number) => TOP + plotH - (Math.max(v, 0) / top) * plotH;
  const lines = entries.map(([name, values], s) => {
    const color = COLORS[s % COLORS.length];
    const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    const dots = values.map((v, i) => `<circle class="point" cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${color}"><title>${escapeHtml(`${name}, ${i + 1}: ${fmt(v)}`)}</title></circle>`);
    return `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points.join(" ")}"/>${dots.join("")}`;
  });
  const ticks = `<text x="${x(0)}" y="${TOP + plotH + 13}" font-size="11" text-anchor="middle">1</text>` + (n > 1 ? `<text x="${x(n - 1)}" y="${TOP + plotH + 13}" font-size="11" text-anchor="middle">${n}</text>` : "");
  const rows = Array.from({ length: n }, (_, i) => [String(i + 1), ...entries.map(([, v]) => (v[i] === undefined ? "" : fmt(v[i]!)))]);
  const xLabel = options.xLabel ?? "step";
  return new Chart(svg(frame(top, options, entries.map(([k]) => k), xLabel) + lines.join("") + ticks), textTable(options, [xLabel, ...entries.map(([k]) => k)], rows));
}
