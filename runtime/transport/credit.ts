/**
 * Credit-based flow control between two endpoints, counted in bytes of encoded batches. A
 * receiver grants back what it has handled from each sender; a sender keeps at most a window of
 * ungranted bytes in flight, and holds further batches itself (encoded, in order) until grants
 * make room. So what ZeroMQ queues toward a slow receiver, at either end, is bounded by the
 * window, and a sender always knows how much is waiting for each peer.
 *
 * No deadlock: a batch bigger than half the window may leave once at most half is in flight, so
 * a waiting sender always has more than half a window in flight; the receiver grants every
 * quarter window it handles (and piggybacks smaller grants on whatever it sends that way), and
 * grants are never held back by credit themselves.
 */

/** Bytes a sender may have in flight toward one receiver (ZeroMQ's queues at both ends). */
export const DEFAULT_WINDOW = 4 * 1024 * 1024;

/** The sender's side toward one receiver: bytes in flight, and whether a batch may leave. */
export class SendWindow {
  /** Bytes sent and not yet granted back. */
  inFlight = 0;
  /** The most that was ever in flight (for tests and status). */
  peak = 0;

  constructor(readonly window: number) {}

  /** Whether a batch of `bytes` may leave now. */
  allows(bytes: number): boolean {
    return this.inFlight + Math.min(bytes, this.window / 2) <= this.window;
  }

  /** A batch of `bytes` left. */
  sent(bytes: number): void {
    this.inFlight += bytes;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
  }

  /** The receiver handled `bytes` more. */
  granted(bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - bytes);
  }
}

/** The receiver's side toward one sender: bytes handled and not yet granted back. */
export class ReceiveCredit {
  private handled = 0;

  constructor(private readonly window: number) {}

  /** Bytes handled since the last grant. */
  get owed(): number {
    return this.handled;
  }

  /** Whether enough is owed that a grant must go out even with nothing to piggyback it on. */
  get due(): boolean {
    return this.handled >= this.window / 4;
  }

  /** A batch of `bytes` from this sender was handled. */
  took(bytes: number): void {
    this.handled += bytes;
  }

  /** Takes what is owed, up to `max`, to send as a grant (0 when nothing is). */
  take(max: number): number {
    const grant = Math.min(this.handled, max);
    this.handled -= grant;
    return grant;
  }
}
