/** The spanning tree over a collection's participating PEs: pure index arithmetic. */

// Four children per node keeps the tree shallow (log4) without making any PE a hub.
const BRANCHING = 4;

/** The parent's position in the participant list, or -1 for the root. */
export function parentPosition(pos: number): number {
  return pos === 0 ? -1 : Math.floor((pos - 1) / BRANCHING);
}

/** The children's positions in a participant list of `count` PEs. */
export function childPositions(pos: number, count: number): number[] {
  const out: number[] = [];
  for (let c = pos * BRANCHING + 1; c <= pos * BRANCHING + BRANCHING && c < count; c++) out.push(c);
  return out;
}
