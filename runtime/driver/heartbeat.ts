/**
 * The driver's application heartbeat for PE processes. ZeroMQ's own heartbeats are answered by
 * its I/O thread, so a PE process stuck in an endless loop still looks connected; this one is
 * answered by the PE's event loop itself: the driver sends every PE a "ping" control message
 * every `intervalMs`, the PE's runtime answers "pong", and a PE that has answered nothing for
 * `timeoutMs` is reported as silent. A tick that comes late (the driver's own loop was busy, so
 * pongs may be sitting unread in its socket) judges nobody: everyone's clock starts again.
 */
import type { Endpoint } from "../protocol/ids.ts";
import { SLOWEST_BYTES_PER_MS } from "../transport/zmq-link.ts";

// Captured before user code runs, so a cell that mocks timers can't stop the heartbeat.
const safeSetInterval = setInterval;
const safeClearInterval = clearInterval;

/** How often the driver pings, and how long a PE may stay silent. */
export interface HeartbeatTiming {
  intervalMs: number;
  timeoutMs: number;
}

/** Every 500 ms; silent for 2 s is dead (issue 6: a dead PE is detected within about two seconds). */
export const DEFAULT_HEARTBEAT: HeartbeatTiming = { intervalMs: 500, timeoutMs: 2000 };

/** A heartbeat that declares a PE dead after `seconds` of silence (pinging at least 4 times meanwhile). */
export function heartbeatFor(seconds: number): HeartbeatTiming {
  return { intervalMs: Math.min(DEFAULT_HEARTBEAT.intervalMs, seconds * 250), timeoutMs: seconds * 1000 };
}

/** Pings a set of PEs and reports the ones that stop answering. */
export class Heartbeat {
  private readonly heardAt = new Map<Endpoint, number>();
  private lastTick = performance.now();
  private round = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    pes: Iterable<Endpoint>,
    private readonly timing: HeartbeatTiming,
    /** Sends a ping (a control message: quiescence doesn't count it). */
    private readonly ping: (pe: Endpoint, round: number) => void,
    /** Called once for a PE that has been silent for `timeoutMs`; it is watched no more. */
    private readonly onSilent: (pe: Endpoint, silentMs: number) => void,
  ) {
    for (const pe of pes) this.heardAt.set(pe, this.lastTick);
    this.timer = safeSetInterval(() => this.tick(), timing.intervalMs);
    this.timer.unref(); // a heartbeat never keeps a program alive
  }

  /** A PE answered (any round: an answer proves its loop turns). */
  heard(pe: Endpoint): void {
    if (this.heardAt.has(pe)) this.heardAt.set(pe, performance.now());
  }

  /**
   * A batch of `bytes` started to cross between the driver and `pe` (either way, in pieces:
   * zmq-bulk.ts): the ping or pong behind it on that stream waits until it has, so the PE's
   * silence is counted only from the time it takes at the slowest rate. A PE stuck meanwhile is
   * found that much later.
   */
  busy(pe: Endpoint, bytes: number): void {
    const at = this.heardAt.get(pe);
    if (at !== undefined) this.heardAt.set(pe, Math.max(at, performance.now() + bytes / SLOWEST_BYTES_PER_MS));
  }

  /** Stops watching one PE (it ended some other way). */
  forget(pe: Endpoint): void {
    this.heardAt.delete(pe);
  }

  /** Stops the heartbeat. */
  stop(): void {
    safeClearInterval(this.timer);
    this.heardAt.clear();
  }

  private tick(): void {
    const now = performance.now();
    // Late by more than an interval: this loop was busy and unread pongs may be waiting.
    const late = now - this.lastTick > 2 * this.timing.intervalMs;
    this.lastTick = now;
    this.round++;
    for (const [pe, at] of [...this.heardAt]) {
      if (late) this.heardAt.set(pe, Math.max(at, now)); // (an allowance for a large batch stands)
      else if (now - at > this.timing.timeoutMs) {
        this.heardAt.delete(pe);
        this.onSilent(pe, now - at);
        continue;
      }
      this.ping(pe, this.round);
    }
  }
}
