/**
 * The one place that counts messages for quiescence detection: sent and handled, in total and
 * per peer, and waits that count as a message to self while they are pending (timers, sleeps,
 * jobs put off to the next turn). Quiescence holds when the global sums balance twice in a row.
 */
import type { Endpoint } from "../protocol/ids.ts";

/** This endpoint's message counts. */
export class Traffic {
  /** Messages sent and handled (quiescence detection compares their global sums). */
  sent = 0;
  handled = 0;
  /** The same per peer (index endpoint + 1), so a dead PE's traffic can be left out of the sums. */
  readonly sentTo: number[];
  readonly handledFrom: number[];
  /** Per dead peer: what was sent to it and handled from it when it died (left out of the sums). */
  private readonly forgotten = new Map<Endpoint, [number, number]>();

  constructor(private readonly self: Endpoint, numPes: number) {
    this.sentTo = new Array<number>(numPes + 1).fill(0);
    this.handledFrom = new Array<number>(numPes + 1).fill(0);
  }

  /**
   * Counts a wait as a message to self until the returned function is called: while it is
   * pending the runtime isn't quiet (a waitQD must not end while a chare sleeps, or between an
   * AtSync and the load report it causes).
   */
  pending(): () => void {
    this.sent++;
    this.sentTo[this.self + 1]!++;
    return () => {
      this.handled++;
      this.handledFrom[this.self + 1]!++;
    };
  }

  /**
   * Leaves this endpoint's traffic with `pe` so far out of its counts: messages sent to a dead
   * PE are never handled, and what it sent was never counted as sent.
   */
  forget(pe: Endpoint): void {
    this.forgotten.set(pe, [this.sentTo[pe + 1]!, this.handledFrom[pe + 1]!]);
  }

  /** This endpoint's quiescence counts: sent and handled, without forgotten traffic. */
  counts(): [sent: number, handled: number] {
    let sent = this.sent;
    let handled = this.handled;
    for (const [s, h] of this.forgotten.values()) { sent -= s; handled -= h; }
    return [sent, handled];
  }
}
