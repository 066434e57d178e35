/**
 * The end of a thread's turn: once a turn that handled messages is over (its replies posted),
 * the thread looks at its rings (sab-ring.ts) again, for an adaptive window if asked, before it
 * marks itself asleep; a reply that comes within the window costs a look (well under 1 µs) instead
 * of a wake-up (~40 µs on this VM). Without a window the look is a microtask queued as the thread
 * wakes (it posts the turn's replies first); with one, an immediate once the turn's microtasks are
 * done. While a thread is marked awake, peers write to its rings
 * without ringing it: a busy thread is never rung, and handles what came at the end of its turn.
 * The window adapts: a spin that finds nothing halves it, a message that arrives by wake-up soon
 * after a spin gave up restores it to the configured most, and a spin that lost its core midway
 * (more busy threads than cores) turns it off for a while. A turn that posted to the driver
 * doesn't spin: the driver never spins, so it was just woken and needs a core (on 2 cores, PEs
 * spinning after their partials made a broadcast + sum over 100 elements ~40 % slower). An idle
 * thread handles nothing, so it never spins: an idle runtime costs no CPU.
 */
import type { AwakeCount } from "./awake-count.ts";
import { deferMicrotask } from "./microtask.ts";

/**
 * The spin window when neither `spinUs` nor CHARM4TS_SPIN_US says otherwise, in µs: long enough
 * for a PE-to-PE round trip (8–12 µs spinning, ~40 µs by wake-up on this VM's 2 cores).
 */
export const DEFAULT_SPIN_US = 50;
// Below this the window is off until a wake-up says it was too short.
const MIN_US = 2;
// A wake-up this soon (in multiples of the most window) after a spin gave up means a longer one would have caught it.
const REGRET = 4;
// A gap this long (ms) between two looks means the thread lost its core mid-spin: the cores are
// oversubscribed, and spinning only takes time from the threads that would send the replies.
const PREEMPTED_MS = 0.2;
// ... so the window stays off this long (ms). Short: the awake count (awake-count.ts) is the
// steady guard against oversubscription; this covers threads it doesn't count, and one lost
// core now and then (a VM's steal time) shouldn't cost 100 ms of wake-ups (it did: a `ret`
// round trip measured 30 µs instead of 12 in one run of three).
const BACK_OFF_MS = 5;

// Captured before user code runs: a cell that mocks timers or the clock can't stall messaging.
const now = performance.now.bind(performance);
const later = setImmediate;
const soon = deferMicrotask();

/** What the window looks at: the thread's incoming rings and ports. */
export interface Inlets {
  /** Handles what every ring holds now; whether there was anything. */
  pump(): boolean;
  /** Takes what waits on the ports (batches with objects or moved buffers); whether there was anything. */
  poll(): boolean;
  /** Marks the thread asleep or awake to every peer. */
  sleep(asleep: boolean): void;
}

/** Ends a thread's turns: looks for more, for an adaptive window, then sleeps. */
export class SpinWindow {
  private windowUs: number;
  private scheduled = false;
  private awake = false;
  private gaveUpAt = -Infinity;
  private offUntil = -Infinity;
  private yieldTurn = false;

  /**
   * `maxUs` bounds the window (0: off); `beforeSpin` posts what this turn sent, so replies can
   * come at all; `awake`, when given, is the process's count of awake runtime threads: no spinning
   * while it exceeds the cores.
   */
  constructor(private readonly maxUs: number, private readonly beforeSpin: () => void, private readonly inlets: Inlets, private readonly awakeCount?: AwakeCount) {
    this.windowUs = maxUs;
  }

  /** A message arrived by wake-up: mark the thread awake, and look again once this turn is over. */
  woke(): void {
    this.markAwake();
    let open = false;
    if (this.maxUs > 0) {
      const t = now();
      if (t - this.gaveUpAt < REGRET * this.maxUs / 1000 && t >= this.offUntil) this.windowUs = this.maxUs;
      open = this.windowUs >= MIN_US && t >= this.offUntil;
    }
    // Without a window the look only marks the thread asleep (and takes what came meanwhile): a
    // microtask does that, where an immediate cost every wake-up an extra turn of the event loop
    // (a moved 1 MiB array tossed between two PEs: 10.6-12.6 GB/s with the immediate, 12.2-17.1
    // without; broadcast + sum over 100 elements, a run's first 900 rounds: 0.25-0.40 ms with it,
    // 0.20-0.26 without; 6 and 4 alternated runs).
    // (So does a closed window: shrunk to nothing, or backed off.)
    if (!open) {
      if (this.scheduled) return;
      this.scheduled = true;
      soon(this.spinSoon);
      return;
    }
    this.arm();
  }

  /** This turn posted to a thread that never spins (the driver): its end doesn't spin, the core is the woken thread's. */
  yieldCore(): void {
    this.yieldTurn = true;
  }

  private markAwake(): void {
    if (!this.awake) { this.awake = true; this.inlets.sleep(false); this.awakeCount?.set(true); }
  }

  private arm(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // An immediate runs once the turn's microtasks (the outgoing batches' flush, async entry
    // methods' continuations) are done; spinning inside the turn would hold those back.
    later(this.spin);
  }

  // A look in a microtask must not throw there (it would surface as an unhandled rejection):
  // what it throws is thrown from an immediate instead, as a look's error always was.
  private readonly spinSoon = (): void => {
    try {
      this.spin();
    } catch (error) {
      later(() => { throw error; });
    }
  };

  private readonly spin = (): void => {
    this.scheduled = false;
    try {
      this.look();
    } catch (error) {
      // Whatever failed here (a message's handler), the rings get another look next turn (an
      // immediate, never a microtask: a look that keeps failing mustn't starve the event loop),
      // and the thread is marked awake meanwhile: never asleep with records left unlooked-at.
      this.markAwake();
      this.arm();
      throw error;
    }
  };

  private look(): void {
    this.beforeSpin();
    // Back to the event loop after anything found, so what it started (microtasks, sends) runs.
    if (this.inlets.pump()) { this.arm(); return; }
    let t = now();
    const crowd = this.awakeCount;
    const yielding = this.yieldTurn;
    this.yieldTurn = false;
    if (!yielding && this.windowUs >= MIN_US && t >= this.offUntil && !crowd?.crowded()) {
      const deadline = t + this.windowUs / 1000;
      let preempted = false;
      let round = 0;
      do {
        // The ports cost ~1 µs a look, the rings well under: the ports get every 8th.
        if (this.inlets.pump() || ((++round & 7) === 0 && this.inlets.poll())) { this.arm(); return; }
        const last = t;
        t = now();
        preempted = t - last > PREEMPTED_MS;
      } while (t < deadline && !preempted && !crowd?.crowded());
      // Preempted: no spinning for a while, then the full window again.
      if (preempted) { this.offUntil = t + BACK_OFF_MS; this.windowUs = this.maxUs; }
      else if (t >= deadline) this.windowUs /= 2; // (crowded out: not the window's fault)
    }
    this.gaveUpAt = t;
    // Asleep first, then a last look: a peer that wrote before seeing the mark is caught here.
    this.awake = false;
    this.inlets.sleep(true);
    this.awakeCount?.set(false);
    if (this.inlets.pump()) this.woke();
  }
}
