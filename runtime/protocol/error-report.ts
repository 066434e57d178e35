/**
 * An error as its user should read it: the frames of their own code — the chare's entry method
 * on its PE, the line that awaited the call — without the runtime's (message handlers, the
 * scheduler, Node's internals). The error objects keep every frame; this only chooses what to
 * show. `CHARM4TS_FULL_STACKS=1` shows everything. Used by the kernel's tracebacks and by
 * charmrun's reports of unhandled errors.
 */
import { isAbsolute, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "../startup/package-root.ts";
import { RemoteError, asError, awaitSite } from "./errors.ts";

/** How to present frames. */
export interface ReportOptions {
  /** Every frame, the runtime's and Node's too (`CHARM4TS_FULL_STACKS=1`). */
  full?: boolean;
  /** The folder the user's paths are shown relative to (the notebook's, or the working directory). */
  base?: string;
  /** A frame's location in the user's terms, e.g. a cell's generated line mapped back; undefined: as is. */
  mapLocation?: (file: string, line: number, column: number) => string | undefined;
}

/** An error, ready to print: its headline, then groups of frames. */
export interface ErrorReport {
  name: string;
  message: string;
  sections: Array<{ title?: string; frames: Frame[] }>;
  /** Frames were left out and none remain: say how to see them. */
  onlyRuntimeFrames: boolean;
}

/** One stack frame: the text around its location, and the location (shown relative, mapped). */
export interface Frame {
  before: string;
  location: string;
  after: string;
}

/** Colours for a terminal or a notebook (ANSI), or none. */
export interface Palette {
  name(text: string): string;
  title(text: string): string;
  location(text: string): string;
}

/** No colours. */
export const PLAIN: Palette = { name: (t) => t, title: (t) => t, location: (t) => t };

/** IPython's colours: the error's name red, locations green, section titles cyan. */
export const ANSI: Palette = {
  name: (t) => `\u001b[0;31m${t}\u001b[0m`,
  title: (t) => `\u001b[0;36m${t}\u001b[0m`,
  location: (t) => `\u001b[0;32m${t}\u001b[0m`,
};

/** Whether to show the runtime's frames too (`CHARM4TS_FULL_STACKS=1`), read when asked. */
export function fullStacks(): boolean {
  const v = process.env.CHARM4TS_FULL_STACKS;
  return v !== undefined && v !== "" && v !== "0";
}

/** Takes an error (or anything thrown) apart into what its user should see. */
export function errorReport(error: unknown, options: ReportOptions = {}): ErrorReport {
  const shown = { any: false, hidden: false };
  const pick = (stack: string | undefined): Frame[] => {
    const frames: Frame[] = [];
    for (const line of (stack ?? "").split("\n")) {
      const frame = parseFrame(line);
      if (!frame) continue;
      if (!options.full && isRuntimeLocation(frame.location)) { shown.hidden = true; continue; }
      frames.push({ ...frame, location: userLocation(frame.location, options) });
    }
    if (frames.length > 0) shown.any = true;
    return frames;
  };
  // An Error of another realm has a stack too; anything else thrown is described as thrown.
  if (!(error instanceof Error) && typeof (error as { stack?: unknown } | null)?.stack !== "string") {
    return { name: "Uncaught", message: `${asError(error).message} (not an Error: no stack)`, sections: [], onlyRuntimeFrames: false };
  }
  const err = error as Error;
  const sections: ErrorReport["sections"] = [];
  if (error instanceof RemoteError) {
    const where = error.pe < 0 ? "on the driver" : `on PE ${error.pe}`;
    const what = error.chare ? `, in ${error.chare}${error.method ? `.${error.method}` : ""}` : "";
    sections.push({ title: `${where}${what}:`, frames: pick(error.remoteStack) });
  } else {
    sections.push({ frames: pick(err.stack) });
  }
  const awaited = pick(awaitSite(err));
  if (awaited.length > 0) sections.push({ title: sections[0]!.frames.length > 0 || sections[0]!.title ? "awaited at:" : undefined, frames: awaited });
  return {
    name: err.name || "Error",
    message: err.message ?? "",
    sections: sections.filter((s) => s.frames.length > 0),
    onlyRuntimeFrames: shown.hidden && !shown.any,
  };
}

/** The report as lines: the headline, titled groups of frames, and a hint when all were hidden. */
export function reportLines(report: ErrorReport, palette: Palette = PLAIN): string[] {
  const lines = [`${palette.name(report.name)}: ${report.message}`];
  for (const section of report.sections) {
    if (section.title) lines.push(`  ${palette.title(section.title)}`);
    for (const f of section.frames) lines.push(`${f.before}${palette.location(f.location)}${f.after}`);
  }
  if (report.onlyRuntimeFrames) lines.push("    (no frames of your code; CHARM4TS_FULL_STACKS=1 shows the runtime's)");
  return lines;
}

/** Splits "    at f (file:1:2)" into its location and the text around it; undefined for other lines. */
export function parseFrame(line: string): Frame | undefined {
  const at = /^(\s+at (?:async )?)(.*)$/.exec(line);
  if (!at) return undefined;
  const rest = at[2]!;
  if (!rest.endsWith(")")) return { before: at[1]!, location: rest, after: "" };
  // "f (location)": the location is the last balanced parenthesis (eval frames nest them).
  let depth = 0;
  for (let i = rest.length - 1; i >= 0; i--) {
    if (rest[i] === ")") depth++;
    else if (rest[i] === "(" && --depth === 0) {
      return { before: `${at[1]}${rest.slice(0, i + 1)}`, location: rest.slice(i + 1, -1), after: ")" };
    }
  }
  return { before: at[1]!, location: rest, after: "" };
}

const POSITION = /^(.*?)(?::(\d+)(?::(\d+))?)?$/;

/** The file of a location ("file:///a/b.js:3:4" → "/a/b.js"), as a path when it is one. */
function fileOf(location: string): { file: string; line?: number; column?: number } {
  const [, file, line, column] = POSITION.exec(location)!;
  let path = file!;
  if (path.startsWith("file://")) {
    try { path = fileURLToPath(path); } catch { /* not a path after all: leave it */ }
  }
  return { file: path, line: line === undefined ? undefined : Number(line), column: column === undefined ? undefined : Number(column) };
}

let runtimeDirs: string[] | undefined;

/** Folders whose code is the runtime's (or the kernel's), never the user's. */
function ownDirs(): string[] {
  if (runtimeDirs) return runtimeDirs;
  try {
    const root = packageRoot();
    runtimeDirs = ["dist", "runtime", "kernel", "bin", "node_modules/.cache/charm4ts"].map((d) => `${root}${sep}${d.replaceAll("/", sep)}${sep}`);
  } catch {
    runtimeDirs = [];
  }
  return runtimeDirs;
}

// Node's internals, V8's builtins ("<anonymous>", "native", "index 0" of Promise.all), the
// cell executor's bundle, and the packages the runtime itself uses.
const NOT_USER = /^(node:|internal\/|<anonymous>$|native$|index \d+$)|cells-worker\.m?js|[\\/]node_modules[\\/](zeromq|esbuild|typescript)[\\/]/;

/** Whether a frame at `location` is the runtime's (or Node's) rather than the user's code. */
export function isRuntimeLocation(location: string): boolean {
  if (NOT_USER.test(location)) return true;
  const { file } = fileOf(location);
  if (NOT_USER.test(file)) return true;
  return ownDirs().some((dir) => file.startsWith(dir));
}

/** A user frame's location as the user knows it: mapped, and relative to their folder. */
function userLocation(location: string, options: ReportOptions): string {
  const { file, line, column } = fileOf(location);
  if (line !== undefined && column !== undefined) {
    const mapped = options.mapLocation?.(file, line, column);
    if (mapped !== undefined) return mapped;
  }
  const base = options.base && (options.base.endsWith(sep) ? options.base : `${options.base}${sep}`);
  const shown = base && isAbsolute(file) && file.startsWith(base) ? relative(base, file) : file;
  return `${shown}${line === undefined ? "" : column === undefined ? `:${line}` : `:${line}:${column}`}`;
}
