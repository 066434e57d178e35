/**
 * Values that offer HTML for a widget (the runtime's charts) are shown as an HTML widget where a
 * widget frontend is connected: `display(chart).update(next)` then sets the widget's value and the
 * frontend redraws it in place, beside the notebook's other widgets, instead of replacing an
 * output. Without a widget frontend they display as before (display_data, update_display_data).
 */
import type { Widgets } from "./index.ts";

const WIDGET_HTML = Symbol.for("charm4ts.widgetHtml");

/** A shown value that can be replaced in place. */
export interface LiveHandle {
  readonly id: string;
  update(content: unknown): void;
}

/** The HTML `value` offers for a widget, if it offers any. */
function widgetHtml(value: unknown): string | undefined {
  const html = (value as { [WIDGET_HTML]?: unknown } | null)?.[WIDGET_HTML];
  return typeof html === "function" ? String(html.call(value)) : undefined;
}

/**
 * Shows `value` as an HTML widget through `show` (the cell's display) and returns its handle, or
 * undefined when `value` has no widget form or no widget frontend is connected.
 */
export function liveView(widgets: Widgets, show: (value: unknown) => unknown, value: unknown): LiveHandle | undefined {
  const html = widgetHtml(value);
  if (html === undefined || !widgets.frontend.present) return undefined;
  const view = widgets.HTML({ value: html });
  show(view);
  return {
    id: view.modelId,
    update(content: unknown) {
      // A later value without a widget form still shows, as its text.
      view.value = widgetHtml(content) ?? String(content);
    },
  };
}
