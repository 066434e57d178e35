/**
 * `progress(total, label)` in a cell: a bar shown once and updated in place as work goes on
 * (Jupyter's update_display_data), readable as text in a terminal runner too.
 */
const MIME_BUNDLE = Symbol.for("charm4ts.mimeBundle");

/** A snapshot of progress that knows how to show itself. */
class ProgressView {
  constructor(readonly label: string, readonly done: number, readonly total: number) {}

  [MIME_BUNDLE](): Record<string, string> {
    const fraction = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const percent = Math.round(fraction * 100);
    const text = `${this.label}: ${this.done}/${this.total} (${percent}%)`;
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
  const display = (globalThis as { display?: DisplayFn }).display;
  if (typeof display !== "function") throw new Error("progress() needs the notebook's display (it works in cells)");
  let done = 0;
  const handle = display(new ProgressView(label, 0, total));
  const show = () => handle.update(new ProgressView(label, done, total));
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
