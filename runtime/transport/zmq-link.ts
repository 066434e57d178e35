/**
 * What one endpoint keeps toward one peer over ZeroMQ: the PUSH socket, the batch being written
 * this turn, batches held until the peer's credit makes room (credit.ts), the send window, and
 * the credit owed back for what this endpoint handled from the peer. Sending never blocks the
 * event loop: beyond the window, batches wait here, encoded and in order.
 */
import type * as zmq from "zeromq";
import type { Endpoint } from "../protocol/ids.ts";
import { WireWriter } from "./wire.ts";
import { EAGER_EXTRAS, EAGER_WORDS, type Outbox } from "./turn-batcher.ts";
import { ReceiveCredit, SendWindow } from "./credit.ts";
import { MAX_GRANT, encodeFrames, frameBytes, grantFrame, writeGrant } from "./zmq-frames.ts";
import { BULK_BYTES, bulkMessages } from "./zmq-bulk.ts";

// Captured before user code runs, so a cell that mocks timers can't disable send timeouts.
const safeSetTimeout = setTimeout;
const safeClearTimeout = clearTimeout;

/** Held for one peer past this, the sender is told once that it outpaces the receiver. */
export const HELD_WARNING_BYTES = 64 * 1024 * 1024;

/**
 * The slowest rate a batch is counted on to cross, in bytes per ms (8 MB/s; ~60 MB/s measured
 * here with CURVE, a network can be slower): what is in flight earns a stalled link, and a PE
 * the driver's heartbeat hears nothing from, that much more time.
 */
export const SLOWEST_BYTES_PER_MS = 8_000;

/** What every link of a transport shares. */
export interface LinkSettings {
  readonly self: Endpoint;
  /** Bytes in flight per peer (credit.ts). */
  readonly window: number;
  /** Milliseconds a peer may take nothing while batches wait for it before that is reported (0: never). */
  sendTimeoutMs: number;
  /** Where failures go (the transport's onError). */
  readonly fail: (error: Error) => void;
  /** Told whenever a link has nothing left to send (drained() waiters). */
  readonly idle: () => void;
  /** Told when a batch of BULK_BYTES or more starts toward `peer` (it crosses in pieces, zmq-bulk.ts). */
  readonly bulk: (peer: Endpoint, bytes: number) => void;
}

interface Held {
  readonly frames: Uint8Array[];
  readonly bytes: number;
}

/** "PE 3", or "the driver" for endpoint -1. */
export function endpointName(e: Endpoint): string {
  return e < 0 ? "the driver" : `PE ${e}`;
}

/** One peer's outgoing stream and flow-control state. */
export class ZmqLink implements Outbox {
  readonly writer = new WireWriter();
  transfer: ArrayBuffer[] | undefined;
  readonly window: SendWindow;
  /** What this endpoint has handled from the peer and not yet granted back. */
  readonly credit: ReceiveCredit;
  /** Bytes of batches waiting for credit, and the most there ever were. */
  heldBytes = 0;
  peakHeld = 0;
  private readonly held: Held[] = [];
  // The rest of a large batch under way: its pieces go before anything else.
  private pieces: Array<Uint8Array | Uint8Array[]> = [];
  /** A send is in progress (zeromq.js allows one at a time per socket). */
  private busy = false;
  private closed = false;
  private warned = false;
  private stalledAt: number | undefined;
  private stallTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly sent = (): void => {
    this.busy = false;
    this.pump();
  };
  private readonly failed = (err: Error): void => {
    this.busy = false;
    if (!this.closed) this.settings.fail(new Error(`messages from ${endpointName(this.settings.self)} to ${endpointName(this.to)} could not be sent: ${err.message}`));
    this.pump();
  };

  constructor(readonly to: Endpoint, readonly socket: zmq.Push, private readonly settings: LinkSettings) {
    this.window = new SendWindow(settings.window);
    this.credit = new ReceiveCredit(settings.window);
  }

  /** Nothing written, held or being sent. */
  get idle(): boolean {
    return !this.busy && this.pieces.length === 0 && this.held.length === 0 && this.writer.empty;
  }

  /** The batcher's post: the batch written so far goes (or waits its turn). */
  post(): void {
    // While a send is in progress or batches wait for credit, a small batch keeps growing in
    // the writer (fewer, bigger frames); pump takes it when its turn comes.
    if ((this.busy || this.held.length > 0) && !this.transfer && this.writer.size < EAGER_WORDS && this.writer.extraCount < EAGER_EXTRAS) return;
    this.hold();
    this.pump();
  }

  /** The peer handled `bytes` more of what this endpoint sent. */
  granted(bytes: number): void {
    this.window.granted(bytes);
    this.stalledAt = undefined;
    if (this.stallTimer) safeClearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.pump();
  }

  /** This endpoint handled a batch of `bytes` from the peer; true when a grant is due now. */
  took(bytes: number): boolean {
    this.credit.took(bytes);
    return this.credit.due;
  }

  /** Sends what the window allows, in order; a grant owed goes with it or alone. */
  pump(): void {
    while (!this.busy && !this.closed) {
      const piece = this.pieces.shift();
      if (piece) {
        this.busy = true;
        this.socket.send(piece).then(this.sent, this.failed);
        break;
      }
      if (this.held.length === 0 && !this.hold()) {
        if (this.credit.due) this.sendGrantAlone();
        break;
      }
      const next = this.held[0]!;
      if (!this.window.allows(next.bytes)) {
        this.stalled();
        // A grant is never held back behind credit: two endpoints waiting on each other both send theirs.
        if (this.credit.owed > 0) this.sendGrantAlone();
        return;
      }
      this.held.shift();
      this.heldBytes -= next.bytes;
      this.window.sent(next.bytes);
      writeGrant(next.frames[0]!, this.credit.take(MAX_GRANT));
      this.busy = true;
      if (next.bytes < BULK_BYTES) {
        this.socket.send(next.frames).then(this.sent, this.failed);
        continue;
      }
      // In pieces (zmq-bulk.ts): the start now, the pieces as each send completes.
      const [start, ...rest] = bulkMessages(this.settings.self, next.frames);
      this.pieces = rest;
      this.socket.send(start!).then(this.sent, this.failed);
      this.settings.bulk(this.to, next.bytes);
    }
    if (this.idle) this.settings.idle();
  }

  /** Stops sending: what is held is dropped (the peer is dead, or the transport closed). */
  close(): void {
    this.closed = true;
    this.held.length = 0;
    this.heldBytes = 0;
    this.pieces = [];
    if (this.stallTimer) safeClearTimeout(this.stallTimer);
    this.socket.close();
  }

  /** Encodes the writer's batch and queues it; false when there was nothing to take. */
  private hold(): boolean {
    const batch = this.writer.take();
    if (!batch) return false;
    const transfer = this.transfer;
    this.transfer = undefined;
    let frames: Uint8Array[];
    try {
      frames = encodeFrames(this.settings.self, batch, transfer);
    } catch (err) {
      this.settings.fail(new Error(`messages from ${endpointName(this.settings.self)} to ${endpointName(this.to)} could not be encoded (${(err as Error).message}); SharedArrayBuffers can't reach another process`));
      return this.held.length > 0;
    }
    const bytes = frameBytes(frames);
    this.held.push({ frames, bytes });
    this.heldBytes += bytes;
    if (this.heldBytes > this.peakHeld) this.peakHeld = this.heldBytes;
    // One batch alone is no sign of outpacing (a single large argument): it leaves at once.
    if (this.held.length > 1 && this.heldBytes >= HELD_WARNING_BYTES && !this.warned) {
      this.warned = true;
      process.stderr.write(`charm4ts: ${endpointName(this.settings.self)} holds ${Math.round(this.heldBytes / 2 ** 20)} MiB of messages for ${endpointName(this.to)}, which takes them more slowly than they are sent; await charm.drained() in the sending loop to wait for room\n`);
    }
    return true;
  }

  private sendGrantAlone(): void {
    if (this.busy) return; // sent() pumps again, and the grant goes then
    this.busy = true;
    this.socket.send(grantFrame(this.settings.self, this.credit.take(MAX_GRANT))).then(this.sent, this.failed);
  }

  /** Batches wait for credit: past the send timeout without a grant, that is reported (once per stall). */
  private stalled(): void {
    if (this.stalledAt !== undefined) return;
    this.stalledAt = performance.now();
    if (this.settings.sendTimeoutMs <= 0) return;
    // The grant for a large batch comes only once it has crossed and been handled (only a large
    // one takes the window past BULK_BYTES).
    const inFlight = this.window.inFlight;
    const ms = this.settings.sendTimeoutMs + (inFlight >= BULK_BYTES ? inFlight / SLOWEST_BYTES_PER_MS : 0);
    this.stallTimer = safeSetTimeout(() => {
      this.stallTimer = undefined;
      if (this.closed || this.stalledAt === undefined) return;
      this.settings.fail(new Error(
        `${endpointName(this.to)} has taken no messages from ${endpointName(this.settings.self)} for ${+(ms / 1000).toFixed(1)} s: ` +
        `${this.held.length} batches (${this.heldBytes} bytes) wait for it, ${this.window.inFlight} bytes are in flight; is it stuck, or cut off from ${endpointName(this.settings.self)}?`,
      ));
    }, ms);
    this.stallTimer.unref();
  }
}
