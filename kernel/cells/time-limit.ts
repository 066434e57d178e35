/**
 * Cell time limits, for classrooms and graders: a cell whose first line is `// @timeout 30s`
 * (or `500ms`, `2m`), or any cell when CHARM4TS_CELL_TIMEOUT (seconds) is set, is interrupted
 * once it has run that long — as the stop button would: the cell ends, PEs stuck in its work are
 * restarted (their chares reported lost), and every other piece of state is kept.
 */

import type { CellOutput } from "./protocol.ts";

// Captured before any cell code runs (a cell may replace setTimeout).
const { setTimeout: safeSetTimeout, clearTimeout: safeClearTimeout } = globalThis;

const DIRECTIVE = /^\s*\/\/\s*@timeout\s+(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/;
/** A first line meant as the directive, whatever follows it. */
const MEANT = /^\s*\/\/\s*@timeout\b/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/**
 * The cell's time limit in ms: its `// @timeout` first line, else the kernel's default
 * (CHARM4TS_CELL_TIMEOUT seconds; "none" or 0 for none), else none. A limit that can't be read
 * throws a RangeError saying what was expected: a grader's typo must not quietly mean no limit.
 */
export function timeLimitOf(code: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const first = code.split("\n", 1)[0] ?? "";
  const match = DIRECTIVE.exec(first);
  if (match) return Number(match[1]) * UNIT_MS[(match[2] ?? "s") as keyof typeof UNIT_MS];
  if (MEANT.test(first)) throw new RangeError(`${first.trim()}: expected a time such as // @timeout 30s, 500ms or 2m`);
  const raw = env.CHARM4TS_CELL_TIMEOUT?.trim();
  if (!raw || raw === "none") return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`CHARM4TS_CELL_TIMEOUT=${JSON.stringify(raw)}: expected seconds (such as 60), or "none"`);
  return seconds > 0 ? seconds * 1000 : undefined;
}

/** What a cell that reached its limit says, before its interrupt's own report. */
export function timeLimitNotice(ms: number): string {
  const amount = ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
  return `The cell reached its time limit of ${amount} and was interrupted (// @timeout on its first line, or CHARM4TS_CELL_TIMEOUT).\n`;
}

/**
 * For a cell with a time limit: calls `expire` with the notice once it is reached, unless the
 * returned function is called first. A limit that can't be read goes to `warn`, and the cell runs without one.
 */
export function watchTimeLimit(code: string, expire: (notice: CellOutput) => void, warn: (notice: CellOutput) => void): (() => void) | undefined {
  let ms: number | undefined;
  try {
    ms = timeLimitOf(code);
  } catch (error) {
    warn({ kind: "stream", name: "stderr", text: `charm4ts: ${(error as Error).message}; this cell runs without a time limit.\n` });
  }
  if (ms === undefined) return undefined;
  const timer = safeSetTimeout(() => expire({ kind: "stream", name: "stderr", text: timeLimitNotice(ms) }), ms);
  timer.unref?.();
  return () => safeClearTimeout(timer);
}
