/**
 * The last lines one PE printed, bounded by lines and by characters, so a flood costs a fixed
 * amount. Text is kept as it was written (chunks, lines marked "[PE n] ") and cut into lines
 * only when read: splitting a flood into strings line by line as it is written costs more than
 * printing it. The PE keeps one (its whole recent output, shown or not), and so does the kernel
 * (what reached it, replaced by the PE's when the PE held some back).
 */

/** Lines kept per PE. */
export const LINES_KEPT = 10_000;
/** Characters kept per PE (about 4 MB of UTF-16): 10,000 long lines don't all fit. */
export const CHARS_KEPT = 2 * 1024 * 1024;
/** A longer line is shown cut to this length. */
const LINE_CHARS = 10_000;

interface Chunk {
  text: string;
  newlines: number;
}

/** One PE's recent output, as written. */
export class OutputRing {
  private chunks: Chunk[] = [];
  private start = 0;
  private chars = 0;
  private newlines = 0;

  /** Appends what the PE wrote, dropping the oldest chunks past the bounds. */
  push(whole: string): void {
    const text = whole.length > CHARS_KEPT ? whole.slice(-CHARS_KEPT) : whole;
    let newlines = 0;
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) newlines++;
    this.chunks.push({ text, newlines });
    this.chars += text.length;
    this.newlines += newlines;
    // The oldest chunk goes once the others hold enough lines without it, or over the characters.
    for (let first = this.chunks[this.start]!; this.chunks.length - this.start > 1; first = this.chunks[this.start]!) {
      if (this.newlines - first.newlines < LINES_KEPT + 1 && this.chars <= CHARS_KEPT) break;
      this.chars -= first.text.length;
      this.newlines -= first.newlines;
      this.start++;
    }
    // Compact now and then, so dropping old chunks stays O(1) amortised.
    if (this.start > 1024) {
      this.chunks = this.chunks.slice(this.start);
      this.start = 0;
    }
  }

  /** Everything kept, as one string (what a PE sends the kernel in place of what it held back). */
  text(): string {
    return this.chunks.slice(this.start).map((c) => c.text).join("");
  }

  /** The last `count` lines of PE `pe` (oldest first), without their "[PE n] " marks, long ones cut. */
  last(pe: number, count: number): string[] {
    const text = this.text();
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop(); // after the last newline: nothing, or a line being written
    const mark = `[PE ${pe}] `;
    // Every line starts marked: unmarked, the oldest is the tail of a line whose start is gone.
    if (lines.length > 0 && !text.startsWith(mark)) lines.shift();
    return lines.slice(Math.max(0, lines.length - count)).map((line) => {
      const unmarked = line.startsWith(mark) ? line.slice(mark.length) : line;
      return unmarked.length > LINE_CHARS ? `${unmarked.slice(0, LINE_CHARS)}… (${unmarked.length.toLocaleString("en-US")} characters)` : unmarked;
    });
  }
}
