/** Schedules the non-blocking type check that runs beside each cell (see README: "Type errors"). */
import type { CellOutput } from "./protocol.ts";
import type { LanguageService } from "./language/client.ts";

/**
 * Type errors never block a cell: checking takes tens of milliseconds even warm (the whole
 * notebook is one program), far more than a small cell. One check runs at a time and only the
 * newest waiting one is kept, so cells that come faster than checks (a loop of tiny executes)
 * never build an ever-growing queue in the language process.
 */
export class TypeCheckQueue {
  private checking = false;
  private next: (() => void) | null = null;

  constructor(private readonly language: LanguageService) {}

  /** Checks `code` after `history`; `report` gets a stderr output only if there are type errors. */
  schedule(history: string[], code: string, cellName: string, report: (output: CellOutput) => void): void {
    if (this.checking) {
      this.next = () => this.schedule(history, code, cellName, report);
      return;
    }
    this.checking = true;
    const advance = (): void => {
      this.checking = false;
      const waiting = this.next;
      this.next = null;
      waiting?.();
    };
    this.language.check(history, code, cellName).finally(advance).then(
      (lines) => {
        if (lines.length === 0) return;
        report({ kind: "stream", name: "stderr", text: `TypeScript (the cell ran anyway):\n${lines.join("\n")}\n` });
      },
      () => {}, // a failed check only loses the advice; the language process restarts on next use
    );
  }
}
