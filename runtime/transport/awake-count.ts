/**
 * How many of this process's runtime threads (the driver and its PE threads) are awake, beside
 * how many cores the process may use, in one SharedArrayBuffer they all hold. A thread spins for
 * its next message (spin.ts) only while no more threads are awake than there are cores: on 2
 * cores, a driver spinning while both PEs work takes a core one of them needs (a broadcast + sum
 * measured 0.11 ms without spinning, 0.17–0.20 ms with).
 */
import { availableParallelism } from "node:os";

const AWAKE = 0;
const CORES = 1;

/** A new count for one runtime's threads, with the cores this process may use. */
export function newAwakeCount(cores = availableParallelism()): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(8);
  Atomics.store(new Int32Array(sab), CORES, Math.max(1, cores));
  return sab;
}

/** One thread's view of the count. */
export class AwakeCount {
  private readonly words: Int32Array;
  private readonly cores: number;

  constructor(sab: SharedArrayBuffer) {
    this.words = new Int32Array(sab);
    this.cores = Atomics.load(this.words, CORES);
  }

  /** This thread woke (true) or goes to sleep (false). */
  set(awake: boolean): void {
    Atomics.add(this.words, AWAKE, awake ? 1 : -1);
  }

  /** Whether more threads are awake than there are cores (spinning would take one from them). */
  crowded(): boolean {
    return Atomics.load(this.words, AWAKE) > this.cores;
  }
}
