/**
 * Transport over ZeroMQ TCP between processes: each endpoint binds one PULL socket, and keeps a
 * PUSH socket connected to each peer it talks to, so PE-to-PE messages go straight between
 * processes, never through the driver. One PUSH→PULL pair is one TCP stream: FIFO per
 * destination. Messages sent in one turn leave together at its end (frames: zmq-frames.ts).
 */
import * as zmq from "zeromq";
import type { Endpoint } from "../protocol/ids.ts";
import type { Message } from "../protocol/messages.ts";
import type { MessageHandler, Transport } from "./transport.ts";
import { WireReader, WireWriter } from "./wire.ts";
import { TurnBatcher, type Outbox as Batch } from "./turn-batcher.ts";
import { decodeFrames, encodeFrames } from "./zmq-frames.ts";
import { advertisedEndpoint, bindEndpoint } from "./zmq-address.ts";
import { curveClient, curveServer, releaseCurveServer, type CurveKeys } from "./curve.ts";

/** How a ZmqTransport binds and behaves. */
export interface ZmqTransportOptions {
  /** The interface address to bind the receiving socket to (default 127.0.0.1: loopback only). */
  host?: string;
  /** Milliseconds queued messages may still leave after close (default 1000). */
  linger?: number;
  /** Where failures without a caller go: a batch that can't be encoded or sent, a malformed message. */
  onError?: (error: Error) => void;
  /** The runtime's CURVE keys: every socket encrypts and authenticates (used off loopback). */
  curve?: CurveKeys;
}

interface Outbox extends Batch {
  readonly to: Endpoint;
  readonly socket: zmq.Push;
  /** A send is in progress (zeromq.js allows one at a time); what is written meanwhile waits. */
  busy: boolean;
  readonly sent: () => void;
}

/** One endpoint's sockets: a bound PULL for everything arriving, a PUSH per peer. */
export class ZmqTransport implements Transport {
  private readonly peers = new Map<Endpoint, string>();
  private readonly outboxes = new Map<Endpoint, Outbox>();
  /** Per sender: its stream's reader, and a handler call that names the sender (quiescence needs it). */
  private readonly readers = new Map<Endpoint, { reader: WireReader; deliver: (msg: Message, cause: number) => void }>();
  private readonly batcher = new TurnBatcher<Outbox>((box) => this.post(box));
  private handler: MessageHandler | undefined;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  private me: Endpoint | undefined;

  private constructor(
    private readonly pull: zmq.Pull,
    /** The address peers connect to (tcp://host:port). */
    readonly address: string,
    private readonly options: ZmqTransportOptions,
  ) {
    void this.receiveLoop();
  }

  /**
   * Binds the receiving socket on a free port of `options.host` (127.0.0.1 unless given). A PE
   * process binds before it knows its number: `join` tells it, and who the peers are.
   */
  static async bind(options: ZmqTransportOptions = {}): Promise<ZmqTransport> {
    const host = options.host ?? "127.0.0.1";
    const pull = new zmq.Pull({ linger: 0, ...(options.curve ? await curveServer(options.curve) : {}) });
    try {
      await pull.bind(bindEndpoint(host));
    } catch (err) {
      pull.close();
      if (options.curve) releaseCurveServer();
      throw new Error(`can't bind a ZeroMQ socket on ${host}: ${(err as Error).message}; give an address of this machine's interface`);
    }
    return new ZmqTransport(pull, advertisedEndpoint(pull.lastEndpoint!), options);
  }

  /** Whether its sockets encrypt and authenticate (CURVE). */
  get encrypted(): boolean {
    return this.options.curve !== undefined;
  }

  /** This endpoint's number (set by `join`). */
  get self(): Endpoint {
    if (this.me === undefined) throw new Error("the transport hasn't joined a runtime yet (call join first)");
    return this.me;
  }

  /** Sets this endpoint's number and adds peers (endpoint → tcp://host:port); sockets connect on first use. */
  join(self: Endpoint, peers: Iterable<[Endpoint, string]>): void {
    if (this.me !== undefined && this.me !== self) throw new Error(`this transport is endpoint ${this.me} already, not ${self}`);
    this.me = self;
    for (const [pe, address] of peers) if (pe !== self) this.peers.set(pe, address);
  }

  send(to: Endpoint, msg: Message, transfer?: ArrayBuffer[], cause = 0): void {
    this.batcher.write(this.outboxes.get(to) ?? this.open(to), msg, transfer, cause);
  }

  flush(): void {
    this.batcher.flush();
  }

  listen(handler: MessageHandler): void {
    this.handler = handler;
  }

  reaches(to: Endpoint): boolean {
    return this.peers.has(to);
  }

  /**
   * Connects to `pe` now, and calls `onLost` when that connection drops: the peer's process
   * ended, or it stopped answering ZeroMQ heartbeats (stopped, or its host vanished).
   */
  watch(pe: Endpoint, onLost: () => void): void {
    const box = this.outboxes.get(pe) ?? this.open(pe);
    box.socket.events.on("disconnect", () => { if (!this.closed) onLost(); });
  }

  /** Resolves once everything sent so far has been handed to ZeroMQ (which delivers it while lingering). */
  drained(): Promise<void> {
    this.flush();
    if (![...this.outboxes.values()].some((b) => b.busy)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pull.close();
    if (this.options.curve) releaseCurveServer();
    for (const box of this.outboxes.values()) box.socket.close();
    this.outboxes.clear();
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private open(to: Endpoint): Outbox {
    const address = this.peers.get(to);
    if (address === undefined) throw new Error(`no channel from endpoint ${this.self} to ${to}`);
    if (this.closed) throw new Error(`endpoint ${this.me}'s transport is closed`);
    // Unbounded high-water mark: batches already coalesce while a send waits, and dropping or
    // blocking here would reorder or lose messages (flow control is the runtime's job).
    // Heartbeats: a peer that stops answering (SIGSTOP, a vanished host) drops the connection
    // within 1.5 s, which `watch` reports; TCP alone would wait for minutes.
    const curve = this.options.curve ? curveClient(this.options.curve) : {};
    const socket = new zmq.Push({ linger: this.options.linger ?? 1000, sendHighWaterMark: 0, heartbeatInterval: 500, heartbeatTimeout: 1500, ...curve });
    socket.connect(address);
    const box: Outbox = { to, socket, writer: new WireWriter(), transfer: undefined, busy: false, sent: () => this.sent(box) };
    this.outboxes.set(to, box);
    return box;
  }

  private post(box: Outbox): void {
    if (box.busy) return; // sent() posts what accumulated meanwhile, as one batch
    const batch = box.writer.take();
    if (!batch) return;
    const transfer = box.transfer;
    box.transfer = undefined;
    let frames: Uint8Array[];
    try {
      frames = encodeFrames(this.self, batch, transfer);
    } catch (err) {
      this.fail(new Error(`messages from endpoint ${this.me} to ${box.to} could not be encoded (${(err as Error).message}); SharedArrayBuffers can't reach another process`));
      return;
    }
    box.busy = true;
    box.socket.send(frames).then(box.sent, (err: Error) => {
      box.busy = false;
      if (!this.closed) this.fail(new Error(`messages from endpoint ${this.me} to ${box.to} could not be sent: ${err.message}`));
      this.wakeIfIdle();
    });
  }

  private sent(box: Outbox): void {
    box.busy = false;
    if (!box.writer.empty && !this.closed) this.post(box);
    else this.wakeIfIdle();
  }

  private wakeIfIdle(): void {
    if (this.idleWaiters.length === 0) return;
    for (const box of this.outboxes.values()) if (box.busy) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.pull) {
        try {
          const { sender, batch } = decodeFrames(frames);
          let from = this.readers.get(sender);
          if (!from) this.readers.set(sender, (from = { reader: new WireReader(), deliver: (msg, cause) => this.handler?.(msg, cause, sender) }));
          from.reader.read(batch, from.deliver);
        } catch (err) {
          // One bad message must not stop the loop for the others.
          this.fail(new Error(`endpoint ${this.me} received a message it can't decode: ${(err as Error).message}`));
        }
      }
    } catch (err) {
      if (!this.closed) this.fail(err as Error);
    }
  }

  private fail(error: Error): void {
    if (this.options.onError) this.options.onError(error);
    else process.stderr.write(`charm4ts: ${error.message}\n`);
  }
}
