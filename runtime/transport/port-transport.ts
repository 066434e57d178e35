/** Transport over MessagePorts: one port per peer, batched per turn, buffers transferred. */
import type { MessagePort } from "node:worker_threads";
import type { Endpoint } from "../protocol/ids.ts";
import type { Message } from "../protocol/messages.ts";
import type { MessageHandler, Transport } from "./transport.ts";
import { WireReader, WireWriter, type WireBatch } from "./wire.ts";
import { TurnBatcher, type Outbox as Batch } from "./turn-batcher.ts";
import { SpinWindow } from "./spin.ts";

interface Outbox extends Batch {
  readonly port: MessagePort;
}

const NO_EXTRAS: unknown[] = [];
const NO_TRANSFER: ArrayBuffer[] = [];

/** A full mesh of MessagePorts: messages go straight to the peer's thread, never via a hub. */
export class PortTransport implements Transport {
  private readonly outboxes = new Map<Endpoint, Outbox>();
  private readonly batcher = new TurnBatcher<Outbox>((box) => this.post(box));
  private handler: MessageHandler | undefined;
  private readonly spin: SpinWindow;

  /** `spinUs`: the most time to keep polling the ports after handling messages (spin.ts; 0: off). */
  constructor(readonly self: Endpoint, private readonly ports: Map<Endpoint, MessagePort>, spinUs = 0) {
    this.spin = new SpinWindow(spinUs, () => this.batcher.flush());
    for (const [from, port] of ports) this.receive(from, port);
  }

  private receive(from: Endpoint, port: MessagePort): void {
    const reader = new WireReader();
    const deliver = (msg: Message, cause: number): void => this.handler?.(msg, cause, from);
    const take = (data: unknown): void => reader.read(data instanceof Float64Array ? { w: data, x: NO_EXTRAS } : (data as WireBatch), deliver);
    port.on("message", (data: unknown) => { take(data); this.spin.woke(); });
    this.spin.add(port, take);
  }

  replacePeer(to: Endpoint, channel: unknown): void {
    const old = this.ports.get(to);
    if (old) { old.close(); this.spin.remove(old); }
    const port = channel as MessagePort;
    this.ports.set(to, port);
    // A new stream: the old writer's interning tables mean nothing to the new reader. (A batch
    // still queued for the old port is posted to the closed port, which drops it.)
    this.outboxes.delete(to);
    this.receive(to, port);
  }

  send(to: Endpoint, msg: Message, transfer?: ArrayBuffer[], cause = 0): void {
    let box = this.outboxes.get(to);
    if (!box) {
      const port = this.ports.get(to);
      if (!port) throw new Error(`no channel from endpoint ${this.self} to ${to}`);
      box = { port, writer: new WireWriter(), transfer: undefined };
      this.outboxes.set(to, box);
    }
    this.batcher.write(box, msg, transfer, cause);
  }

  flush(): void {
    this.batcher.flush();
  }

  private post(box: Outbox): void {
    const batch = box.writer.take();
    if (!batch) return; // already posted early this turn
    // Words alone when nothing else rides along: one typed array clones faster than an object.
    box.port.postMessage(batch.x.length === 0 ? batch.w : batch, box.transfer ?? NO_TRANSFER);
    box.transfer = undefined;
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
    for (const port of this.ports.values()) { port.close(); this.spin.remove(port); }
    this.ports.clear();
  }
}
