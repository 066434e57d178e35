/** Runs notebook cells through a CellExecutor for the kernel's tests: result, stderr, and an interrupt on cue. */
import type { CellExecutor } from "../../kernel/cells/executor.ts";
import type { CellOutput, CellResult } from "../../kernel/cells/protocol.ts";
import { within } from "../runtime/within.ts";

/** A cell's result and what it printed on stderr. */
export interface Ran {
  result: CellResult;
  stderr: string;
}

/** Runs cells named cell-1.ts, cell-2.ts, … on `executor()`; with `interruptOn`, interrupts a cell once it printed that text. Each is bounded (20 s). */
export function cellRunner(executor: () => CellExecutor): (code: string, interruptOn?: string) => Promise<Ran> {
  let count = 0;
  return (code, interruptOn) => {
    let stderr = "";
    const cell = executor().execute(code, {
      output: (o: CellOutput) => {
        if (o.kind === "stream" && o.name === "stderr") stderr += o.text;
        if (interruptOn && o.kind === "stream" && o.text.includes(interruptOn)) executor().interrupt();
      },
      input: async () => "",
    }, { name: `cell-${++count}.ts` });
    return within(cell.then((result) => ({ result, stderr })), 20_000, `cell ${count} (${code.split("\n").at(-1)})`);
  };
}

/** A result as the notebook shows it: the value's text, or `Name: message`. */
export const shown = (r: CellResult): unknown => (r.status === "ok" ? r.value?.data["text/plain"] : `${r.ename}: ${r.evalue}`);
