/** Maps generated positions back to a cell's own lines, for cells that needed a full TypeScript emit. */

/** A position in 1-based lines and columns, as V8's stack traces print them. */
export interface Position {
  line: number;
  column: number;
}

/** Maps a 1-based generated position to the cell's own position. */
export type Remap = (position: Position) => Position;

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Decodes a version-3 source map's `mappings` (single source) into a position lookup. */
export function remapFromSourceMap(mappings: string): Remap {
  // Per generated line: [generatedColumn, sourceLine, sourceColumn] triples, sorted by column.
  const lines: number[][][] = [];
  let sourceLine = 0;
  let sourceColumn = 0;
  for (const lineText of mappings.split(";")) {
    const segments: number[][] = [];
    let generatedColumn = 0;
    for (const segment of lineText.split(",")) {
      if (!segment) continue;
      const fields = decodeVlq(segment);
      generatedColumn += fields[0];
      if (fields.length >= 4) {
        sourceLine += fields[2];
        sourceColumn += fields[3];
        segments.push([generatedColumn, sourceLine, sourceColumn]);
      }
    }
    lines.push(segments);
  }
  return ({ line, column }) => {
    const segments = lines[line - 1];
    if (!segments || segments.length === 0) return { line, column };
    let best = segments[0];
    for (const s of segments) if (s[0] <= column - 1) best = s;
    return { line: best[1] + 1, column: best[2] + 1 + Math.max(0, column - 1 - best[0]) };
  };
}

function decodeVlq(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}
