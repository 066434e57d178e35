/**
 * A one-writer, one-reader ring of float64 words in a SharedArrayBuffer: how a batch of
 * words reaches another thread of this process without a postMessage. Writing is a memcpy and
 * one atomic store; a reader that is awake (handling messages, or in its spin window) sees it
 * within microseconds, where a MessagePort costs the sleeping thread's wake-up (~40 µs on this
 * VM) and the sender ~15–20 µs of CPU per post. A reader that sleeps is rung awake over the
 * port (port-transport.ts): the reader marks itself asleep before its last look at the ring,
 * the writer checks the mark after it publishes, and both are sequentially consistent atomics,
 * so at least one of them sees the other and no record is left unseen.
 */

/** Words per ring when the transport isn't told otherwise: 256 KiB, room for several eager-sized batches. */
export const RING_WORDS = 1 << 15;

// Control words (Int32), each on a cache line of its own: the writer's position, the reader's
// position, and the reader's sleep mark.
const W = 0;
const R = 16;
const SLEEP = 32;
const CONTROL_BYTES = 33 * 4 + 60; // through SLEEP, padded to a multiple of 8 for the words

// The reader's sleep mark: awake; asleep and nobody rang yet; asleep and rung (by this ring's one writer).
const AWAKE = 0;
const ASLEEP = 1;
const RUNG = 2;

// A record is [seq, n, ...n words]; a record that doesn't fit before the end starts at 0, and
// this word where it would have started says so.
const WRAP = -1;
const HEADER = 2;

/** A new ring of `words` float64 words, its reader marked asleep until it first looks. */
export function newRing(words = RING_WORDS): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(CONTROL_BYTES + words * 8);
  Atomics.store(new Int32Array(sab, 0, SLEEP + 1), SLEEP, ASLEEP);
  return sab;
}

/** Whether `data` is a ring made by newRing (checked where it arrives over a port). */
export function isRing(data: unknown): data is SharedArrayBuffer {
  return data instanceof SharedArrayBuffer && data.byteLength > CONTROL_BYTES && (data.byteLength - CONTROL_BYTES) % 8 === 0;
}

/** Either end's views of a ring's memory. */
abstract class RingEnd {
  protected readonly control: Int32Array;
  protected readonly data: Float64Array;
  protected readonly size: number;

  constructor(sab: SharedArrayBuffer) {
    this.control = new Int32Array(sab, 0, SLEEP + 1);
    this.data = new Float64Array(sab, CONTROL_BYTES);
    this.size = this.data.length;
  }
}

/** The writing end: one thread, one destination. */
export class RingWriter extends RingEnd {
  private w = Atomics.load(this.control, W);

  /**
   * Appends the record (`seq`, words[0..n)) and publishes it; false, writing nothing, when the
   * ring hasn't room (the caller sends it another way, which the sequence number keeps in order).
   */
  write(seq: number, words: Float64Array, n: number): boolean {
    const len = HEADER + n;
    const size = this.size;
    const w = this.w;
    const r = Atomics.load(this.control, R);
    let at = w;
    // One word always stays free, so a full ring never looks empty (w === r means empty).
    if (r > w) {
      if (len > r - w - 1) return false;
    } else if (len > size - w - (r === 0 ? 1 : 0)) {
      if (len > r - 1) return false;
      this.data[w] = WRAP;
      at = 0;
    }
    const data = this.data;
    data[at] = seq;
    data[at + 1] = n;
    data.set(n === words.length ? words : words.subarray(0, n), at + HEADER);
    const next = at + len === size ? 0 : at + len;
    this.w = next;
    Atomics.store(this.control, W, next);
    return true;
  }

  /**
   * After a write: whether the reader sleeps and nobody has rung it yet, in which case the
   * caller must ring (once: this marks it rung).
   */
  mustRing(): boolean {
    return Atomics.compareExchange(this.control, SLEEP, ASLEEP, RUNG) === ASLEEP;
  }
}

/** The reading end. */
export class RingReader extends RingEnd {
  private r = Atomics.load(this.control, R);

  /** The sequence number of the next record, or -1 when the ring is empty. */
  peek(): number {
    const w = Atomics.load(this.control, W);
    if (this.r === w) return -1;
    if (this.data[this.r] === WRAP) {
      this.r = 0;
      Atomics.store(this.control, R, 0);
      if (w === 0) return -1;
    }
    return this.data[this.r]!;
  }

  /** Takes the record peek() named: its words, copied out (the writer may reuse the room at once). */
  take(): Float64Array {
    const r = this.r;
    const n = this.data[r + 1]!;
    const words = this.data.slice(r + HEADER, r + HEADER + n);
    const next = r + HEADER + n;
    this.r = next === this.size ? 0 : next;
    Atomics.store(this.control, R, this.r);
    return words;
  }

  /** Marks the reader asleep (writers will ring) or awake (they won't). */
  sleep(asleep: boolean): void {
    Atomics.store(this.control, SLEEP, asleep ? ASLEEP : AWAKE);
  }
}
