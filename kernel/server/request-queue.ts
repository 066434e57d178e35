// A FIFO of received requests served one at a time. Receiving never waits for serving, so the
// socket is always drained and the queue knows exactly which requests are waiting — which is
// what stop_on_error aborts (exactly those, not whatever arrives during some time after an error).
import type { Incoming } from "../protocol/messages.ts";

/** A request with the order it arrived in. */
export interface Queued {
  seq: number;
  message: Incoming;
}

/** Requests of one channel, served sequentially by one async loop. */
export class RequestQueue {
  private readonly items: Queued[] = [];
  private wake: (() => void) | undefined;
  private nextSeq = 1;
  private closed = false;

  /** Appends a request and wakes the server loop. */
  push(message: Incoming): void {
    this.items.push({ seq: this.nextSeq++, message });
    this.wake?.();
    this.wake = undefined;
  }

  /** The sequence number of the latest received request (0 if none). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** Ends the serve loop once the current request finishes. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  /** Calls `serve` for each request in arrival order until closed; serve's errors go to onError. */
  async run(serve: (q: Queued) => Promise<void>, onError: (e: unknown) => void): Promise<void> {
    while (!this.closed) {
      const next = this.items.shift();
      if (!next) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      try {
        await serve(next);
      } catch (e) {
        onError(e);
      }
    }
  }
}
