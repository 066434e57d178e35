/**
 * Joins consecutive stream writes of a cell that arrive in one turn of this thread's event loop:
 * `for (…) console.log(i)` becomes a few outputs (iopub messages) instead of one per line. The
 * worker still posts every write at once, so output printed before a long synchronous loop is
 * never held back; other outputs (and the cell's result) flush what is pending first, so order is kept.
 */
import type { CellOutput } from "./protocol.ts";

// Captured before any cell code runs (a cell may replace setImmediate).
const { setImmediate: safeSetImmediate } = globalThis;
/** A joined write is sent once it reaches this size, whatever comes next. */
const MAX_JOINED = 65536;

interface Pending {
  owner: object;
  deliver: (output: CellOutput) => void;
  name: "stdout" | "stderr";
  text: string;
}

/** Stream text waiting to be joined with the next write of the same cell and stream. */
export class StreamJoiner {
  private pending: Pending | null = null;

  /** Delivers `output` for `owner` (a cell) through `deliver`, joining stream text written in one turn. */
  add(owner: object, deliver: (output: CellOutput) => void, output: CellOutput): void {
    const pending = this.pending;
    if (output.kind === "stream" && pending?.owner === owner && pending.name === output.name && pending.text.length < MAX_JOINED) {
      pending.text += output.text;
      return;
    }
    this.flush();
    if (output.kind !== "stream") {
      deliver(output);
      return;
    }
    this.pending = { owner, deliver, name: output.name, text: output.text };
    safeSetImmediate(() => this.flush());
  }

  /** Sends what is waiting now. */
  flush(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    pending.deliver({ kind: "stream", name: pending.name, text: pending.text });
  }
}
