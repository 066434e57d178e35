/**
 * `progress(total, label)` in a cell: a bar shown once and updated in place as work goes on. With
 * a widget frontend connected it is a progress widget and a label (widgets move without redrawing
 * the output); otherwise an HTML bar updated by update_display_data, readable as text in a
 * terminal runner and nbconvert too.
 */
import type { Widgets } from "../widgets/index.ts";

const MIME_BUNDLE = Symbol.for("charm4ts.mimeBundle");

/** A snapshot of progress that knows how to show itself. */
class ProgressView {
  constructor(readonly label: string, readonly done: number, readonly total: number) {}

  /** `label: done/total (percent%)`. */
  text(): string {
    return `${this.label}: ${this.counts()}`;
  }

  /** `done/total (percent%)`. */
  counts(): string {
    return `${this.done}/${this.total} (${Math.round(this.fraction() * 100)}%)`;
  }

  private fraction(): number {
    return this.total > 0 ? Math.min(1, this.done / this.total) : 1;
  }

  [MIME_BUNDLE](): Record<string, string> {
    const fraction = this.fraction();
    const text = this.text();
    const bar = `<div style="width:300px;border:1px solid #999;height:12px;display:inline-block;vertical-align:middle">` +
      `<div style="width:${(fraction * 100).toFixed(1)}%;height:100%;background:#4a90d9"></div></div>`;
    return { "text/plain": text, "text/html": `${bar} <span>${text.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</span>` };
  }
}

/** What a cell holds to move the bar. */
export interface Progress {
  /** Sets how much is done (clamped to the total). */
  update(done: number): void;
  /** Adds one (or `n`) to what is done. */
  tick(n?: number): void;
}

type DisplayFn = (value: unknown) => { update(value: unknown): void };

/** Shows a progress bar in the running cell and returns its handle. */
export function progress(total: number, label = "progress"): Progress {
  const { display, widgets } = globalThis as { display?: DisplayFn; widgets?: Widgets };
  if (typeof display !== "function") throw new Error("progress() needs the notebook's display (it works in cells)");
  let done = 0;
  const show = widgets?.frontend.present ? widgetBar(widgets, display, label, total, () => done) : textBar(display, label, total, () => done);
  return {
    update(n: number) {
      done = Math.max(0, Math.min(total, n));
      show();
    },
    tick(n = 1) {
      done = Math.min(total, done + n);
      show();
    },
  };
}

/** The bar as widgets: a progress widget described by `label`, and a `done/total (percent)` label. */
function widgetBar(widgets: Widgets, display: DisplayFn, label: string, total: number, done: () => number): () => void {
  const bar = widgets.IntProgress({ min: 0, max: Math.max(0, Math.round(total)), description: label });
  const text = widgets.Label({ value: new ProgressView(label, 0, total).counts() });
  display(widgets.HBox([bar, text]));
  return () => {
    bar.value = Math.round(done());
    text.value = new ProgressView(label, done(), total).counts();
  };
}

/** The bar as an HTML output updated in place. */
function textBar(display: DisplayFn, label: string, total: number, done: () => number): () => void {
  const handle = display(new ProgressView(label, 0, total));
  return () => handle.update(new ProgressView(label, done(), total));
}
