/**
 * The awaits of a cell's own top-level code, rewritten to resume through the kernel's check
 * (kernel/cells/worker/resumed.ts): `await x` becomes `RESUMED((await x), "cell-3.ts")`, which
 * throws once that cell was interrupted, so a loop the interrupt abandoned ends where it next
 * wakes. Awaits inside functions are left alone: a function may be called by a later cell.
 */
import ts from "typescript";
import type { Insert } from "./assignments.ts";

/** The global that resumed awaits go through (kernel/cells/worker/resumed.ts installs it). */
export const RESUMED = "__charm4tsResumed";

/** Inserts wrapping every await of `sf`'s top-level code (not in a function) for the cell named `cell`. */
export function wrapTopLevelAwaits(sf: ts.SourceFile, cell: string): Insert[] {
  const inserts: Insert[] = [];
  const name = JSON.stringify(cell);
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node)) return;
    if (ts.isAwaitExpression(node)) {
      const start = node.getStart(sf), end = node.end;
      // The same ranks as assignments.ts: an outer range opens before and closes after an inner one.
      inserts.push({ at: start, text: `${RESUMED}((`, rank: 1e15 - end }, { at: end, text: `), ${name})`, rank: -start });
    }
    node.forEachChild(visit);
  };
  sf.forEachChild(visit);
  return inserts;
}
