/**
 * Where an interrupted cell's code stops. An interrupt abandons a cell that awaits (its awaits
 * can't be cancelled from outside), so `while (true) { await cells.step.awaitable() }` went on in
 * the background, stepping the chares under later cells. Each `await` in a cell's own top-level
 * code resumes through `RESUMED(value, cell)` (kernel/interactive/resume-points.ts writes it in), which
 * throws once that cell was interrupted: the loop ends where it next wakes. (No async context
 * follows the cell instead: with one, V8's termination of a busy loop inside a promise job
 * aborted the whole process in Node 20.)
 */
import { CharmError } from "../../../runtime/index.ts";
import { cellInterrupted } from "../../../runtime/embedding.ts";
import { RESUMED } from "../../interactive/resume-points.ts";

/** Installs RESUMED on this worker's globalThis. */
export function installResumedCheck(): void {
  (globalThis as Record<string, unknown>)[RESUMED] = <T>(value: T, cell: string): T => {
    if (cellInterrupted(cell)) throw new CharmError(`${cell} was interrupted: its code still running after the interrupt (a loop around an await) stops here`);
    return value;
  };
}
