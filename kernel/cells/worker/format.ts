/** Turns cell values into mime bundles and thrown values into Jupyter error fields. */
import { inspect } from "node:util";
import type { CellResult, MimeBundle } from "../protocol.ts";
import type { Remap } from "./source-map.ts";

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
  data["text/plain"] ??= typeof value === "string" ? inspect(value) : inspect(value, { depth: 4 });
  return { data, metadata: {} };
}

/** The worker's own frames (and everything under them) are noise in a user's traceback. */
const INTERNAL_FRAME = /node:inspector|cells-worker\.m?js|kernel\/cells\/worker\//;
const CELL_FRAME = /([\w.-]+\.ts):(\d+):(\d+)/;

/**
 * Error fields for a thrown value. Frames are cut below the cell, and positions in cells that took
 * the full TypeScript emit are mapped back through `remaps` (keyed by cell file name).
 */
export function errorResult(
  thrown: unknown,
  remaps: ReadonlyMap<string, Remap>,
  where?: { cellName: string; line: number; column: number },
): Extract<CellResult, { status: "error" }> {
  const isError = thrown instanceof Error || (typeof thrown === "object" && thrown !== null && "stack" in thrown);
  if (!isError) {
    const evalue = inspect(thrown);
    return { status: "error", ename: "Uncaught", evalue, traceback: [`Uncaught ${evalue}`] };
  }
  const error = thrown as Error;
  const ename = error.name || "Error";
  const evalue = error.message ?? "";
  const frames: string[] = [];
  for (const line of String(error.stack ?? "").split("\n").slice(1)) {
    if (!/^\s+at /.test(line)) continue;
    if (INTERNAL_FRAME.test(line)) break;
    frames.push(remapFrame(line, remaps));
  }
  // A SyntaxError raised while compiling the script has no frame: point at the cell position.
  if (frames.length === 0 && where) {
    const position = remaps.get(where.cellName)?.({ line: where.line, column: where.column }) ?? where;
    frames.push(`    at ${where.cellName}:${position.line}:${position.column}`);
  }
  return { status: "error", ename, evalue, traceback: [`${ename}: ${evalue}`, ...frames] };
}

function remapFrame(line: string, remaps: ReadonlyMap<string, Remap>): string {
  return line.replace(CELL_FRAME, (whole, file: string, l: string, c: string) => {
    const remap = remaps.get(file);
    if (!remap) return whole;
    const p = remap({ line: Number(l), column: Number(c) });
    return `${file}:${p.line}:${p.column}`;
  });
}
