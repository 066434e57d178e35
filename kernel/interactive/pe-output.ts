/**
 * The last lines each PE printed, shown or not: output over the notebook's rate limit is dropped
 * on its way to the frontend (kernel/cells/worker/stream-limit.ts), and `charm.output(pe)` reads
 * it back from here. What a PE held back itself (runtime/pe/output-budget.ts) arrives later as its
 * own recent output, which then replaces what this log had of that PE.
 */
import { LINES_KEPT, OutputRing } from "../../runtime/embedding.ts";

export { LINES_KEPT };

/** Per-PE rings of printed output. */
export class PeOutputLog {
  private readonly rings = new Map<number, OutputRing>();

  /** Records what PE `pe` wrote (lines marked "[PE n] " at their starts, as print-through-driver sends them). */
  add(pe: number, text: string): void {
    let ring = this.rings.get(pe);
    if (!ring) this.rings.set(pe, (ring = new OutputRing()));
    ring.push(text);
  }

  /** Replaces what is kept of PE `pe` with its own record of its recent output (it includes all that reached here). */
  replace(pe: number, text: string): void {
    const ring = new OutputRing();
    ring.push(text);
    this.rings.set(pe, ring);
  }

  /** The last `count` lines PE `pe` printed (oldest first), without their "[PE n] " marks. */
  last(pe: number, count = LINES_KEPT): string[] {
    if (count === 0) return [];
    return this.rings.get(pe)?.last(pe, count) ?? [];
  }
}
