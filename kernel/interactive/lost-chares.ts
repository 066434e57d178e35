/**
 * What a PE restarted in place took with it, said per collection so the user can tell two arrays
 * of one class apart: "Spin array of 4, made in cell-3.ts: Spin[2], Spin[3]".
 */
import { collectionsMade, elementsOn, isPoolGroup, lostBefore, type CollectionId, type CollectionRef } from "../../runtime/embedding.ts";

/** Remembers which cell made each collection the driver created. */
export class CollectionOrigins {
  private readonly madeIn = new Map<CollectionId, string>();
  private cell = "";

  /** A cell starts: collections not yet named were made by the cell before it (or its late work). */
  cellStarts(name: string): void {
    this.nameNew();
    this.cell = name;
  }

  /** The cell that made `ref` ("" when unknown). */
  of(ref: CollectionRef): string {
    this.nameNew();
    return this.madeIn.get(ref.cid) ?? "";
  }

  private nameNew(): void {
    for (const ref of collectionsMade()) {
      if (!this.madeIn.has(ref.cid)) this.madeIn.set(ref.cid, this.cell);
    }
  }
}

/**
 * One line per collection that had chares on `pe`, naming them; collections whose chares there an
 * earlier restart of `pe` already took are left out (they were reported then).
 */
export function charesOn(pe: number, origins: CollectionOrigins): string[] {
  const lines: string[] = [];
  for (const ref of collectionsMade()) {
    if (lostBefore(pe, ref.cid)) continue;
    const made = origins.of(ref) ? `, made in ${origins.of(ref)}` : "";
    switch (ref.kind) {
      case "single":
        if (ref.pe === pe) lines.push(`${ref.cls} (a single chare${made})`);
        break;
      case "group":
        // charm.pool's workers are a group the runtime made, not a cell: said so, with what happens next.
        lines.push(isPoolGroup(ref.cid) ? `charm.pool's own worker ${ref.cls}[${pe}] (the next charm.pool call makes a new one)` : `${ref.cls} group${made}: ${ref.cls}[${pe}]`);
        break;
      case "sparse":
        lines.push(`${ref.cls} sparse array${made}: its elements on PE ${pe}`);
        break;
      case "array": {
        const here = elementsOn(ref, pe).map((idx) => `${ref.cls}[${idx.join(",")}]`);
        if (here.length === 0) break;
        const listed = here.length <= 4 ? here.join(", ") : `${here.length} elements, ${here[0]} … ${here.at(-1)}`;
        lines.push(`${ref.cls} array of ${ref.dims!.join("×")}${made}: ${listed}`);
        break;
      }
      default:
        ref.kind satisfies never;
    }
  }
  // The pool's earlier groups (replaced after an earlier restart of another PE) read the same: said once.
  return [...new Set(lines)];
}
