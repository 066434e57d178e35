/** Position-preserving text edits: the JavaScript keeps the cell's line numbers. */

/** Replace `[start, end)` with `text`; the rest of the range is blanked, its line breaks kept. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

const LINE_BREAK = /[\n\r\u2028\u2029]/;

/**
 * Applies non-overlapping edits; where two overlap the one starting first (or the longer, on a tie)
 * wins, so erasing a whole `export interface` beats erasing just its `export`.
 */
export function applyEdits(source: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = "";
  let cursor = 0;
  for (const edit of sorted) {
    if (edit.start < cursor) continue;
    out += source.slice(cursor, edit.start);
    const original = source.slice(edit.start, edit.end);
    if (edit.text.length <= original.length) {
      out += edit.text + blank(original.slice(edit.text.length));
    } else {
      // Longer text shifts columns on this line only; the line breaks it replaced are kept.
      out += edit.text + [...original].filter((c) => LINE_BREAK.test(c)).join("");
    }
    cursor = edit.end;
  }
  return out + source.slice(cursor);
}

function blank(text: string): string {
  return text.replace(/[^\n\r\u2028\u2029]/g, " ");
}
