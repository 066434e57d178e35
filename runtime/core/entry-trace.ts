/**
 * A PE's recorder of entry-method executions, off unless a timeline is being taken: the host
 * checks one flag per call. Turning it off hands the events over (presentation/trace.ts draws them).
 */
import { payloadBytes } from "./payload-size.ts";

/** One execution: PE, what ran, and when (ms since the epoch). */
export interface TraceEvent {
  pe: number;
  label: string;
  start: number;
  end: number;
  /** Approximate bytes of the call's arguments. */
  bytes: number;
}

/** A PE's recorder: off unless a timeline is being taken (one branch on the hot path). */
export class Tracer {
  on = false;
  private events: TraceEvent[] = [];

  /** Absolute milliseconds: every thread's `performance.now()` counts from its own origin. */
  static now(): number {
    return performance.timeOrigin + performance.now();
  }

  /** Records one execution. */
  record(pe: number, label: string, start: number, args: unknown[]): void {
    if (this.events.length < 200_000) this.events.push({ pe, label, start, end: Tracer.now(), bytes: payloadBytes(args) });
  }

  /** Turns tracing on or off; turning it off hands over (and forgets) the events. */
  toggle(on: boolean): TraceEvent[] {
    this.on = on;
    const events = this.events;
    this.events = [];
    return events;
  }
}
