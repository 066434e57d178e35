/**
 * Transport between threads of this process: one MessagePort per peer, and one ring
 * (sab-ring.ts) per peer and direction for batches of words alone, the hot messages. Batched per
 * turn; buffers transferred.
 */
import type { MessagePort } from "node:worker_threads";
import { DRIVER, type Endpoint } from "../protocol/ids.ts";
import type { Message } from "../protocol/messages.ts";
import type { MessageHandler, Transport } from "./transport.ts";
import { WireWriter } from "./wire.ts";
import { TurnBatcher, type Outbox as Batch } from "./turn-batcher.ts";
import { SpinWindow, type Inlets } from "./spin.ts";
import { AwakeCount } from "./awake-count.ts";
import { newRing, RING_WORDS, RingWriter } from "./sab-ring.ts";
import { PortInlet, type PortBatch, type PortMessage } from "./port-inlet.ts";

interface Outbox extends Batch {
  readonly port: MessagePort;
  readonly ring: RingWriter | undefined;
  readonly peer: Endpoint;
  seq: number;
}

const NO_TRANSFER: ArrayBuffer[] = [];
// The wake-up posted to a peer that sleeps after something was written to its ring.
const RING = 0;

/** A full mesh of MessagePorts and rings: messages go straight to the peer's thread, never via a hub. */
export class PortTransport implements Transport {
  private readonly outboxes = new Map<Endpoint, Outbox>();
  private readonly batcher = new TurnBatcher<Outbox>((box) => this.post(box));
  private handler: MessageHandler | undefined;
  private readonly inlets = new Map<Endpoint, PortInlet>();
  private readonly spin: SpinWindow;
  private readonly awake: AwakeCount | undefined;

  /**
   * `spinUs`: the most time to keep looking for messages after handling some (spin.ts; 0: off);
   * `awake`: the process's count of awake runtime threads (awake-count.ts), which spinning
   * defers to; `ringWords`: the size of each outgoing ring (0: none, everything goes over the ports).
   */
  constructor(readonly self: Endpoint, private readonly ports: Map<Endpoint, MessagePort>, spinUs = 0, awake?: SharedArrayBuffer, private readonly ringWords = RING_WORDS) {
    const inlets: Inlets = {
      pump: () => {
        let found = false;
        for (const inlet of this.inlets.values()) if (inlet.pending()) { found = true; inlet.pump(); }
        return found;
      },
      poll: () => {
        let found = false;
        for (const inlet of this.inlets.values()) if (inlet.poll()) found = true;
        return found;
      },
      sleep: (asleep) => { for (const inlet of this.inlets.values()) inlet.sleep(asleep); },
    };
    this.awake = awake && new AwakeCount(awake, self);
    this.spin = new SpinWindow(spinUs, () => this.batcher.flush(), inlets, this.awake);
    for (const [peer, port] of ports) this.connect(peer, port);
  }

  // The peer's stream in (its port's listener), and ours out: our ring for it is our first message.
  private connect(peer: Endpoint, port: MessagePort): void {
    const inlet = new PortInlet(port, (msg, cause) => this.handler?.(msg, cause, peer));
    this.inlets.set(peer, inlet);
    port.on("message", (data: PortMessage) => {
      // Awake first: the end of this turn looks at the rings again even if handling this throws.
      this.spin.woke();
      inlet.take(data);
    });
    let ring: RingWriter | undefined;
    if (this.ringWords > 0) {
      const sab = newRing(this.ringWords);
      port.postMessage(sab);
      ring = new RingWriter(sab);
    }
    this.outboxes.set(peer, { port, ring, peer, seq: 0, writer: new WireWriter(), transfer: undefined });
  }

  replacePeer(to: Endpoint, channel: unknown): void {
    const old = this.ports.get(to);
    if (old) old.close();
    const port = channel as MessagePort;
    this.ports.set(to, port);
    // A new stream both ways: the old writer's interning tables and numbering mean nothing to the
    // new reader. (A batch still queued for the old port is posted to the closed port, which drops it.)
    this.connect(to, port);
  }

  send(to: Endpoint, msg: Message, transfer?: ArrayBuffer[], cause = 0): void {
    const box = this.outboxes.get(to);
    if (!box) throw new Error(`no channel from endpoint ${this.self} to ${to}`);
    this.batcher.write(box, msg, transfer, cause);
  }

  flush(): void {
    this.batcher.flush();
  }

  private post(box: Outbox): void {
    const writer = box.writer;
    if (writer.empty) return; // already posted early this turn
    if (box.peer === DRIVER) this.spin.yieldCore();
    const seq = box.seq++;
    const ring = box.ring;
    if (ring && writer.extraCount === 0 && box.transfer === undefined && ring.write(seq, writer.buffer, writer.size)) {
      writer.clear();
      // Counted awake before the wake-up is posted: counted after, the peer could wake, sleep
      // and uncount itself first, and then stay counted while it sleeps (spinning elsewhere
      // stopped for a whole run: a ping-pong of 43 µs instead of 11).
      if (ring.mustRing()) { this.awake?.rang(box.peer); box.port.postMessage(RING); }
      return;
    }
    const batch = writer.take()! as PortBatch;
    batch.s = seq;
    // The batch itself wakes a sleeping peer, so it is marked rung (nothing written to its ring
    // next rings it again); marked before the post, never after, or the peer might take the
    // batch, fall asleep again and stay marked rung with no wake-up on its way.
    const rung = ring?.mustRing() ?? false;
    if (rung) this.awake?.rang(box.peer);
    const transfer = box.transfer ?? NO_TRANSFER;
    box.transfer = undefined;
    try {
      box.port.postMessage(batch, transfer);
    } catch (error) {
      // Nothing was sent: the number is the next batch's, and the wake-up promised still goes.
      box.seq = seq;
      if (rung) box.port.postMessage(RING);
      throw error;
    }
  }

  listen(handler: MessageHandler): void {
    this.handler = handler;
  }

  reaches(to: Endpoint): boolean {
    return this.ports.has(to);
  }

  /** Every peer here is a thread of this process. */
  sharesMemoryWith(to: Endpoint): boolean {
    return this.reaches(to);
  }

  close(): void {
    for (const port of this.ports.values()) port.close();
    this.ports.clear();
    this.inlets.clear();
  }
}
