/** The type check that runs beside each cell and reports before the cell's reply (see README: "Type errors"). */
import type { CellOutput } from "./protocol.ts";
import type { LanguageService } from "./language/client.ts";
import { TIMED_OUT, settledWithin } from "./settled-within.ts";

// The first check of a kernel loads TypeScript's lib files and @types/node (seconds); a check
// that takes longer than this is a language process in trouble, and the cell's reply goes out.
const TYPE_CHECK_WAIT_MS = 20_000;

/** Waits (bounded) for a cell's check and outputs its report, or says the check took too long. */
export async function reportWhenChecked(check: Promise<CellOutput | null>, output: (o: CellOutput) => void): Promise<void> {
  const report = await settledWithin(check, TYPE_CHECK_WAIT_MS);
  if (report === TIMED_OUT) output({ kind: "stream", name: "stderr", text: `TypeScript: checking this cell took over ${TYPE_CHECK_WAIT_MS / 1000} s; its type errors, if any, are not shown\n` });
  else if (report) output(report);
}

/**
 * Type errors never block a cell from running: the check starts with the cell, in the language
 * process, and the cell's reply waits for it, so the report is that cell's output — before its
 * `execute_reply`, where frontends (and nbconvert) still listen, never under a later cell. Checks
 * run one at a time, in cell order; a cell's check waits for the one before it.
 */
export class TypeChecks {
  private last: Promise<unknown> = Promise.resolve();

  constructor(private readonly language: LanguageService) {}

  /** Checks `code` after `history`: a stderr output with its errors, or null (none, or the check failed). */
  check(history: string[], code: string, cellName: string): Promise<CellOutput | null> {
    const report = this.last.then(() => this.language.check(history, code, cellName)).then(
      (lines): CellOutput | null => (lines.length === 0 ? null : { kind: "stream", name: "stderr", text: `TypeScript (the cell ran anyway):\n${lines.join("\n")}\n` }),
      () => null, // a failed check only loses the advice; the language process restarts on next use
    );
    this.last = report;
    return report;
  }
}
