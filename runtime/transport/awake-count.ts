/**
 * How many of this process's runtime threads (the driver and its PE threads) are awake, beside
 * how many cores the process may use, in one SharedArrayBuffer they all hold. A thread spins for
 * its next message (spin.ts) only while no more threads are awake than there are cores: on 2
 * cores, a driver spinning while both PEs work takes a core one of them needs (a broadcast + sum
 * measured 0.11 ms without spinning, 0.17–0.20 ms with). Each thread also has a slot saying
 * whether it counts itself, so a PE thread ended while awake (restarted in place) can be
 * taken out of the count.
 */
import { availableParallelism } from "node:os";
import type { Endpoint } from "../protocol/ids.ts";

const AWAKE = 0;
const CORES = 1;
// Then one slot per endpoint: the driver (-1) first.
const SLOTS = 2 + 1;

/** A new count for a runtime of `numPes` PE threads and its driver, with the cores this process may use. */
export function newAwakeCount(numPes: number, cores = availableParallelism()): SharedArrayBuffer {
  const sab = new SharedArrayBuffer((SLOTS + numPes) * 4);
  Atomics.store(new Int32Array(sab), CORES, Math.max(1, cores));
  return sab;
}

/** One thread's view of the count. */
export class AwakeCount {
  private readonly words: Int32Array;
  private readonly cores: number;

  constructor(sab: SharedArrayBuffer, private readonly self: Endpoint) {
    this.words = new Int32Array(sab);
    this.cores = Atomics.load(this.words, CORES);
  }

  /** This thread woke (true) or goes to sleep (false). */
  set(awake: boolean): void {
    setSlot(this.words, this.self, awake ? 1 : 0);
  }

  /**
   * Counts `peer` awake now: this thread just rang it, so it is about to take a core. (Its own
   * turns end by marking it asleep again.) Without this, two PEs spinning after they replied to
   * a sleeping driver held both cores while it woke (a broadcast + sum: 0.19 ms, 0.13 without spinning).
   */
  rang(peer: Endpoint): void {
    setSlot(this.words, peer, 1);
  }

  /** Whether more threads are awake than there are cores (spinning would take one from them). */
  crowded(): boolean {
    return Atomics.load(this.words, AWAKE) > this.cores;
  }
}

/** Takes a thread that ended (a PE restarted in place) out of the count, if it counted itself awake. */
export function forgetThread(sab: SharedArrayBuffer, pe: Endpoint): void {
  setSlot(new Int32Array(sab), pe, 0);
}

function setSlot(words: Int32Array, endpoint: Endpoint, value: number): void {
  const slot = SLOTS + endpoint; // the driver's (-1) is the first
  if (slot >= words.length) return; // a PE this runtime didn't count (not one of its threads)
  const before = Atomics.exchange(words, slot, value);
  if (before !== value) Atomics.add(words, AWAKE, value - before);
}
