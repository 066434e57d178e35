/**
 * Whether a cell parses, for `is_complete`: a cell the bracket scanner calls complete may still be
 * invalid (`const = 5;`), and Jupyter's convention (IPython's, jupyter_kernel_test's) is to say
 * so, so a console frontend submits it and shows the error instead of waiting for more lines.
 * esbuild's parser is used (a dependency already; its service starts on first use, ~50 ms, in a
 * process of its own, so the kernel's thread never loads TypeScript's 9 MB compiler).
 */

import { isComplete, type IsCompleteResult } from "./is-complete.ts";

/** Jupyter `is_complete` for a cell: the bracket scanner, then the parser for what it calls complete. */
export async function cellCompleteness(code: string): Promise<IsCompleteResult> {
  if (PAGER.test(code)) return { status: "complete" };
  const scanned = isComplete(code);
  return scanned.status === "complete" && !(await parsesAsCell(code)) ? { status: "invalid" } : scanned;
}

/** A cell that is only `name?` or `name??` shows documentation (the pager), as in IPython. */
const PAGER = /^\s*[\p{L}_$][\p{L}\p{N}_$.]*\?{1,2}\s*$/u;

/** Whether `code` parses as a cell (TypeScript, top-level await and imports allowed). */
export async function parsesAsCell(code: string): Promise<boolean> {
  const { transform } = await import("esbuild");
  const parses = (text: string): Promise<boolean> =>
    transform(text, { loader: "ts", format: "esm", target: "es2022", logLevel: "silent" }).then(() => true, () => false);
  if (await parses(code)) return true;
  // `{ a: 1 }` alone is an object literal in a cell (as in Node's REPL), not a block.
  return code.trimStart().startsWith("{") && parses(`(${code}\n)`);
}
