/**
 * The spin window: a thread that has just handled messages keeps polling its ports
 * synchronously (`receiveMessageOnPort`) for a short while before it goes back to sleep, so a
 * reply that comes soon costs a poll (~1 µs) instead of a wake-up (~35 µs on this VM). The
 * window adapts: a spin that finds nothing halves it, a message that arrives by wake-up soon
 * after a spin gave up restores it to the configured most, and a spin that lost its core midway
 * (more busy threads than cores) turns it off for a while. An idle thread handles
 * nothing, so it never spins: an idle runtime costs no CPU.
 */
import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";

/** The spin window when neither `spinUs` nor CHARM4TS_SPIN_US says otherwise, in µs. */
export const DEFAULT_SPIN_US = 0;
// Below this the window is off until a wake-up says it was too short.
const MIN_US = 2;
// A wake-up this soon (in multiples of the most window) after a spin gave up means a longer one would have caught it.
const REGRET = 4;
// A gap this long (ms) between two polls means the thread lost its core mid-spin: the cores are
// oversubscribed, and spinning only takes time from the threads that would send the replies.
const PREEMPTED_MS = 0.2;
// ... so the window stays off this long (ms).
const BACK_OFF_MS = 100;

// Captured before user code runs: a cell that mocks timers or the clock can't stall messaging.
const now = performance.now.bind(performance);
const later = setImmediate;

/** One port and what to do with what arrives on it. */
interface Source {
  readonly port: MessagePort;
  readonly take: (data: unknown) => void;
}

/** Polls a thread's ports for an adaptive window after it handled messages. */
export class SpinWindow {
  private readonly sources: Source[] = [];
  private windowUs: number;
  private scheduled = false;
  private gaveUpAt = -Infinity;
  private offUntil = -Infinity;

  /** `maxUs` bounds the window (0: off); `beforeSpin` posts what this turn sent, so replies can come at all. */
  constructor(private readonly maxUs: number, private readonly beforeSpin: () => void) {
    this.windowUs = maxUs;
  }

  /** Polls `port` too; `take` handles what arrives on it (the same as its "message" listener). */
  add(port: MessagePort, take: (data: unknown) => void): void {
    this.sources.push({ port, take });
  }

  /** Stops polling `port` (it was closed or replaced). */
  remove(port: MessagePort): void {
    const i = this.sources.findIndex((s) => s.port === port);
    if (i >= 0) this.sources.splice(i, 1);
  }

  /** A message arrived by wake-up: spin once this turn is over (its replies posted first). */
  woke(): void {
    if (this.maxUs === 0) return;
    const t = now();
    if (t < this.offUntil) return;
    if (t - this.gaveUpAt < REGRET * this.maxUs / 1000) this.windowUs = this.maxUs;
    this.arm();
  }

  private arm(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // An immediate runs once the turn's microtasks (the outgoing batches' flush, async entry
    // methods' continuations) are done; spinning inside the turn would hold those back.
    later(this.spin);
  }

  private readonly spin = (): void => {
    this.scheduled = false;
    this.beforeSpin();
    // Off for now: only note when this turn ended, so a wake-up soon after turns it back on.
    if (this.windowUs < MIN_US) { this.gaveUpAt = now(); return; }
    const sources = this.sources;
    let t = now();
    const deadline = t + this.windowUs / 1000;
    do {
      let found = false;
      for (let i = 0; i < sources.length; i++) {
        const got = receiveMessageOnPort(sources[i]!.port);
        if (got) { found = true; sources[i]!.take(got.message); }
      }
      // Back to the event loop so what the message started (microtasks, sends) runs, then spin again.
      if (found) { this.arm(); return; }
      const last = t;
      t = now();
      if (t - last > PREEMPTED_MS) { this.windowUs = 0; this.offUntil = t + BACK_OFF_MS; return; }
    } while (t < deadline);
    this.windowUs /= 2;
    this.gaveUpAt = t;
  };
}
