/**
 * What arrives from one peer thread, in the order it was sent. A batch of words alone comes
 * through the peer's ring (sab-ring.ts); a batch with objects or moved buffers, or one the ring
 * had no room for, comes over the MessagePort; both carry the stream's sequence number. Each way
 * is first-in first-out, and the sender posts to the port before it publishes anything later in
 * the ring, so whenever one way shows a later number than the next expected, what is missing
 * is already waiting at the head of the other way: the inlet takes it from there first.
 */
import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { Message } from "../protocol/messages.ts";
import { isRing, RingReader } from "./sab-ring.ts";
import { WireReader, type WireBatch } from "./wire.ts";

/** A batch that came over the port, with its place in the stream. */
export interface PortBatch extends WireBatch {
  s: number;
}

/** What the port carries besides batches: the peer's ring, once, first; a wake-up (a number). */
export type PortMessage = PortBatch | SharedArrayBuffer | number;

const NO_EXTRAS: unknown[] = [];

/** Receives one peer's stream from its port and its ring. */
export class PortInlet {
  private readonly wire = new WireReader();
  private ring: RingReader | undefined;
  private expected = 0;

  constructor(readonly port: MessagePort, private readonly deliver: (msg: Message, cause: number) => void) {}

  /** Starts reading the peer's ring (its first message on the port), marking this thread awake in it: it is taking a message. */
  adopt(ring: SharedArrayBuffer): void {
    this.ring = new RingReader(ring);
    this.ring.sleep(false);
  }

  /** Handles what came over the port (the thread is awake): a batch, the peer's ring, or a wake-up. */
  take(data: PortMessage): void {
    if (typeof data === "number") this.pump();
    else if (isRing(data)) { this.adopt(data); this.pump(); }
    else this.fromPort(data as PortBatch);
  }

  /** Takes one message from the port if one waits (the spin window looks there too, less often); whether there was one. */
  poll(): boolean {
    const got = receiveMessageOnPort(this.port);
    if (got) this.take(got.message as PortMessage);
    return got !== undefined;
  }

  /** Handles a batch that came over the port (by its listener, or polled by `pump`). */
  fromPort(batch: PortBatch): void {
    // Records numbered before it were published before it was posted: they are in the ring.
    while (this.expected < batch.s) this.fromRing(batch.s);
    this.expected = batch.s + 1;
    this.wire.read(batch, this.deliver);
  }

  /** Handles everything the ring holds now, and whatever port batches come between. */
  pump(): void {
    const ring = this.ring;
    if (!ring) return;
    for (let s = ring.peek(); s >= 0; s = ring.peek()) {
      if (s === this.expected) this.fromRing(s);
      else this.pollPort(s);
    }
  }

  /** Whether the ring holds anything (a cheap look, for the spin window). */
  pending(): boolean {
    return this.ring !== undefined && this.ring.peek() >= 0;
  }

  /** Marks this thread asleep (the peer rings the port after writing) or awake. */
  sleep(asleep: boolean): void {
    this.ring?.sleep(asleep);
  }

  private fromRing(before: number): void {
    const s = this.ring?.peek() ?? -1;
    if (s !== this.expected) throw new Error(`message stream out of order: expected batch ${this.expected} in the ring before ${before}, found ${s}`);
    this.expected = s + 1;
    this.wire.read({ w: this.ring!.take(), x: NO_EXTRAS }, this.deliver);
  }

  // The ring's head is numbered past the next expected: the batches between were posted to the port first.
  private pollPort(ringHead: number): void {
    for (;;) {
      const got = receiveMessageOnPort(this.port);
      if (!got) throw new Error(`message stream out of order: batch ${this.expected} neither in the ring (at ${ringHead}) nor on the port`);
      const data = got.message as PortMessage;
      if (typeof data === "number") continue; // a wake-up: this thread is awake already
      if (data instanceof SharedArrayBuffer) throw new Error("message stream out of order: a second ring from one peer");
      this.fromPort(data);
      return;
    }
  }
}
