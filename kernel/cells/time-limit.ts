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
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/** The cell's time limit in ms: its `// @timeout` first line, else the kernel's default, else none. */
export function timeLimitOf(code: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const first = code.split("\n", 1)[0] ?? "";
  const match = DIRECTIVE.exec(first);
  if (match) return Number(match[1]) * UNIT_MS[(match[2] ?? "s") as keyof typeof UNIT_MS];
  const seconds = Number(env.CHARM4TS_CELL_TIMEOUT);
  return env.CHARM4TS_CELL_TIMEOUT && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** What a cell that reached its limit says, before its interrupt's own report. */
export function timeLimitNotice(ms: number): string {
  const amount = ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
  return `The cell reached its time limit of ${amount} and was interrupted (// @timeout on its first line, or CHARM4TS_CELL_TIMEOUT).\n`;
}

/** For a cell with a time limit: calls `expire` with the notice once it is reached, unless the returned function is called first. */
export function watchTimeLimit(code: string, expire: (notice: CellOutput) => void): (() => void) | undefined {
  const ms = timeLimitOf(code);
  if (ms === undefined) return undefined;
  const timer = safeSetTimeout(() => expire({ kind: "stream", name: "stderr", text: timeLimitNotice(ms) }), ms);
  timer.unref?.();
  return () => safeClearTimeout(timer);
}
