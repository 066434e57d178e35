/** Transport over MessagePorts: one port per peer, batched per turn, buffers transferred. */
import type { MessagePort } from "node:worker_threads";
import type { Endpoint } from "../protocol/ids.ts";
import type { Message } from "../protocol/messages.ts";
import type { MessageHandler, Transport } from "./transport.ts";
import { WireReader, WireWriter, type WireBatch } from "./wire.ts";
import { deferMicrotask } from "./microtask.ts";

interface Outbox {
  readonly port: MessagePort;
  readonly writer: WireWriter;
  transfer: ArrayBuffer[] | undefined;
}

// Big payloads leave at once rather than at the end of the turn: the receiver works on them
// while the sender copies the next one, and freed copies get reused by malloc instead of
// hundreds of MiB of fresh pages (each first touch of a page costs ~25 µs on this VM).
const EAGER_BYTES = 256 * 1024;
// A batch this big (float64 words) leaves at once too: the receiver starts on it while the
// sender goes on, and batch buffers stay small enough for malloc to recycle.
const EAGER_WORDS = 8192;

function bytesOf(buffers: ArrayBuffer[]): number {
  let n = 0;
  for (let i = 0; i < buffers.length; i++) n += buffers[i]!.byteLength;
  return n;
}

const NO_EXTRAS: unknown[] = [];
const NO_TRANSFER: ArrayBuffer[] = [];

/** A full mesh of MessagePorts: messages go straight to the peer's thread, never via a hub. */
export class PortTransport implements Transport {
  private readonly outboxes = new Map<Endpoint, Outbox>();
  private readonly dirty: Outbox[] = [];
  private flushScheduled = false;
  private handler: MessageHandler | undefined;
  // Captured before any user code runs, so a cell or chare that patches queueMicrotask
  // can't stall messaging.
  private readonly defer = deferMicrotask();
  private readonly flushNow = (): void => this.flush();

  constructor(readonly self: Endpoint, private readonly ports: Map<Endpoint, MessagePort>) {
    for (const [from, port] of ports) this.receive(from, port);
  }

  private receive(from: Endpoint, port: MessagePort): void {
    const reader = new WireReader();
    const deliver = (msg: Message, cause: number): void => this.handler?.(msg, cause, from);
    port.on("message", (data: WireBatch | Float64Array) => reader.read(data instanceof Float64Array ? { w: data, x: NO_EXTRAS } : data, deliver));
  }

  replacePeer(to: Endpoint, channel: unknown): void {
    this.ports.get(to)?.close();
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
    if (box.writer.empty) this.dirty.push(box);
    box.writer.write(msg, cause);
    if (transfer) {
      (box.transfer ??= []).push(...transfer);
      if (bytesOf(transfer) >= EAGER_BYTES) { this.post(box); return; }
    }
    if (box.writer.size >= EAGER_WORDS) { this.post(box); return; }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.defer(this.flushNow);
    }
  }

  flush(): void {
    this.flushScheduled = false;
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) this.post(dirty[i]!);
    dirty.length = 0;
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

  close(): void {
    for (const port of this.ports.values()) port.close();
    this.ports.clear();
  }
}
