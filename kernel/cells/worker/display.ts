/** The `display` API a cell sees: rich outputs, updatable by display id, and `clearOutput`. */
import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import type { CellOutput } from "../protocol.ts";
import { bundleOf } from "./format.ts";

/** Marks values that are not worth an `execute_result` (a display handle as a cell's last value). */
export const NO_RESULT = Symbol.for("charm4ts.noResult");

/** Marks values that, as a cell's last value, are displayed instead (widgets, as ipywidgets' are). */
export const DISPLAY_INSTEAD = Symbol.for("charm4ts.displayInstead");

/** Options of every display call: `id` names the display so a later call can update it. */
export interface DisplayOptions {
  id?: string;
}

/** A shown output; `update` replaces it in place (Jupyter `update_display_data`). */
export interface DisplayHandle<T> {
  readonly id: string;
  update(content: T): void;
}

type Show<T> = (content: T, options?: DisplayOptions) => DisplayHandle<T>;

/** `display(value)` plus one method per mime type. */
export interface Display {
  <T>(value: T, options?: DisplayOptions): DisplayHandle<T>;
  html: Show<string>;
  svg: Show<string>;
  png: Show<string | Uint8Array>;
  markdown: Show<string>;
  json: Show<unknown>;
  text: Show<string>;
}

/** Shows a value as a widget instead, when it has a widget form (a chart) and a widget frontend is there. */
export type WidgetView = (value: unknown, show: (value: unknown) => unknown) => { readonly id: string; update(content: unknown): void } | undefined;

/** Builds the API over `emit`, which forwards an output to the cell running now. */
export function createDisplay(emit: (output: CellOutput) => void, widgetView?: WidgetView): { display: Display; clearOutput(wait?: boolean): void } {
  const shower = <T>(toData: (content: T) => Record<string, unknown>): Show<T> => {
    return (content, options = {}) => {
      // Every display gets an id, so any handle can update even if the user did not name it.
      const id = options.id ?? randomUUID();
      const send = (value: T, update: boolean): void =>
        emit({ kind: "display", data: toData(value), metadata: {}, transient: { display_id: id }, update });
      send(content, false);
      return { id, update: (value: T) => send(value, true), [NO_RESULT]: true };
    };
  };
  const plain = shower<unknown>((value) => bundleOf(value).data);
  const display = (<T>(value: T, options?: DisplayOptions): DisplayHandle<T> => {
    const live = options?.id === undefined ? widgetView?.(value, (v) => plain(v)) : undefined;
    return live ? { id: live.id, update: (next: T) => live.update(next), [NO_RESULT]: true } as DisplayHandle<T> : plain(value, options) as DisplayHandle<T>;
  }) as Display;
  display.html = shower((html: string) => ({ "text/html": html, "text/plain": html }));
  display.svg = shower((svg: string) => ({ "image/svg+xml": svg, "text/plain": "<svg image>" }));
  display.png = shower((png: string | Uint8Array) => ({
    "image/png": typeof png === "string" ? png : Buffer.from(png).toString("base64"),
    "text/plain": "<png image>",
  }));
  display.markdown = shower((md: string) => ({ "text/markdown": md, "text/plain": md }));
  // application/json must be an object in the message, never a pre-serialized string: frontends render it as given.
  display.json = shower((value: unknown) => ({
    "application/json": JSON.parse(JSON.stringify(value ?? null)) as unknown,
    "text/plain": inspect(value, { depth: 4 }),
  }));
  display.text = shower((text: string) => ({ "text/plain": text }));
  return {
    display,
    clearOutput: (wait = false) => {
      emit({ kind: "clear", wait });
    },
  };
}
