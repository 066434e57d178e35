/**
 * The last lines each PE printed, shown or not: output over the notebook's rate limit is dropped
 * on its way to the frontend (kernel/cells/worker/stream-limit.ts), and `charm.output(pe)` reads
 * it back from here. Bounded per PE by lines and by characters, so a flood costs a fixed amount.
 *
 * What a PE wrote is kept as it arrived (chunks of up to 16 kB, lines marked "[PE n] ") and cut
 * into lines only when read: the driver takes every PE's output on one thread, and splitting a
 * flood into strings line by line as it arrives made it fall behind the PEs.
 */

/** Lines kept per PE. */
export const LINES_KEPT = 10_000;
/** Characters kept per PE (about 4 MB of UTF-16): 10,000 long lines don't all fit. */
const CHARS_KEPT = 2 * 1024 * 1024;
/** A longer line is shown cut to this length. */
const LINE_CHARS = 10_000;

interface Chunk {
  text: string;
  newlines: number;
}

class Ring {
  private chunks: Chunk[] = [];
  private start = 0;
  private chars = 0;
  private newlines = 0;

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

  last(pe: number, count: number): string[] {
    const text = this.chunks.slice(this.start).map((c) => c.text).join("");
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

/** Per-PE rings of printed output. */
export class PeOutputLog {
  private readonly rings = new Map<number, Ring>();

  /** Records what PE `pe` wrote (lines marked "[PE n] " at their starts, as print-through-driver sends them). */
  add(pe: number, text: string): void {
    let ring = this.rings.get(pe);
    if (!ring) this.rings.set(pe, (ring = new Ring()));
    ring.push(text);
  }

  /** The last `count` lines PE `pe` printed (oldest first), without their "[PE n] " marks. */
  last(pe: number, count = LINES_KEPT): string[] {
    if (count === 0) return [];
    return this.rings.get(pe)?.last(pe, count) ?? [];
  }
}
