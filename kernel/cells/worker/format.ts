/** Turns cell values into mime bundles and thrown values into Jupyter error fields. */
import { inspect } from "node:util";
import type { CellResult, MimeBundle } from "../protocol.ts";
import type { Remap } from "./source-map.ts";
import { ANSI, errorReport, fullStacks, reportLines, type Palette } from "../../../runtime/embedding.ts";

/**
 * A value that knows how to show itself: `[MIME_BUNDLE](): Record<mime, data>`. The runtime's
 * proxies, futures and status objects implement it; `text/plain` is added when missing.
 */
export const MIME_BUNDLE = Symbol.for("charm4ts.mimeBundle");

/** The bundle for a cell's value or a `display(value)`: rich data when offered, always text/plain. */
export function bundleOf(value: unknown): MimeBundle {
  const data: Record<string, unknown> = {};
  const rich = (value as { [MIME_BUNDLE]?: unknown } | null)?.[MIME_BUNDLE];
  if (typeof rich === "function") {
    try {
      Object.assign(data, rich.call(value));
    } catch (error) {
      data["text/plain"] = `${inspect(value)}\n(its display failed: ${String(error)})`;
    }
  }
  // A bundle may leave text/plain out on purpose (null): a widget view the frontend shows itself.
  if (data["text/plain"] === null) delete data["text/plain"];
  else data["text/plain"] ??= typeof value === "string" ? inspect(value) : inspect(value, { depth: 4 });
  return { data, metadata: {} };
}

/** What tracebacks need from the worker: the notebook's folder, and source maps of remapped cells. */
export interface TracebackContext {
  /** User paths are shown relative to it. */
  cwd: string;
  /** Cells that took the full TypeScript emit, by file name ("cell-3.ts"). */
  remaps: ReadonlyMap<string, Remap>;
  /** What the driver knows about an error that its message can't say (a driver-only name), added to it. */
  explain?: (thrown: unknown) => string | undefined;
}

/**
 * Error fields for a thrown value: the traceback shows the user's frames only (cells, their own
 * modules relative to the notebook; a remote error's frames on its PE, and the cell line that
 * awaited it), coloured as IPython does (ANSI in the traceback, never in `evalue`); plain for
 * text that goes to a stream. `where` is the exception's position, for errors without frames.
 */
export function errorResult(
  thrown: unknown,
  context: TracebackContext,
  where?: { cellName: string; line: number; column: number },
  palette: Palette = ANSI,
): Extract<CellResult, { status: "error" }> {
  const report = errorReport(thrown, {
    full: fullStacks(),
    base: context.cwd,
    mapLocation: (file, line, column) => {
      const remap = context.remaps.get(file);
      if (!remap) return undefined;
      const p = remap({ line, column });
      return `${file}:${p.line}:${p.column}`;
    },
  });
  const explanation = context.explain?.(thrown);
  if (explanation) report.message = `${report.message}: ${explanation}`;
  // A SyntaxError raised while compiling the script has no frame at all: point at the position V8
  // gave. (A thrown non-Error has none either, but its position is the REPL script's start.)
  const stack = (thrown as { stack?: unknown } | null)?.stack;
  if (where && typeof stack === "string" && !/\n\s+at /.test(stack)) {
    const position = context.remaps.get(where.cellName)?.({ line: where.line, column: where.column }) ?? where;
    report.sections.push({ frames: [{ before: "    at ", location: `${where.cellName}:${position.line}:${position.column}`, after: "" }] });
  }
  return { status: "error", ename: report.name, evalue: report.message, traceback: reportLines(report, palette) };
}
