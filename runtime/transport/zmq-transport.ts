/**
 * Transport over ZeroMQ TCP between processes: each endpoint binds one PULL socket, and keeps a
 * PUSH socket connected to each peer it talks to, so PE-to-PE messages go straight between
 * processes, never through the driver. One PUSH→PULL pair is one TCP stream: FIFO per
 * destination. Messages sent in one turn leave together at its end (frames: zmq-frames.ts), and
 * credit-based flow control bounds what is in flight toward each peer (credit.ts, zmq-link.ts).
 * With the runtime's CURVE keys (curve.ts) only its members connect; a batch is then delivered
 * only if its sender is a live member: one this endpoint joined with and nobody declared dead.
 */
import * as zmq from "zeromq";
import type { Endpoint } from "../protocol/ids.ts";
import type { Message } from "../protocol/messages.ts";
import type { FlowStats, MessageHandler, Transport } from "./transport.ts";
import { WireReader } from "./wire.ts";
import { TurnBatcher } from "./turn-batcher.ts";
import { decodeFrames, frameBytes, peekHeader } from "./zmq-frames.ts";
import { BulkAssembly, PIECE, START, readPiece, readStart } from "./zmq-bulk.ts";
import { advertisedEndpoint, bindEndpoint } from "./zmq-address.ts";
import { curveClient, curveServer, curveServerClosed, releaseCurveServer, type CurveKeys } from "./curve.ts";
import { DEFAULT_WINDOW } from "./credit.ts";
import { ZmqLink, type LinkSettings } from "./zmq-link.ts";
import { deferMicrotask } from "./microtask.ts";

/** A peer that takes nothing for this long while messages wait for it is reported (see zmq-link.ts). */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

/** How long a peer that ended by itself still has what it sent before taken (see `ended`). */
const LAST_WORDS_MS = 1000;

/** How a ZmqTransport binds and behaves. */
export interface ZmqTransportOptions {
  /** The interface address to bind the receiving socket to (default 127.0.0.1: loopback only). */
  host?: string;
  /** Milliseconds queued messages may still leave after close (default 1000). */
  linger?: number;
  /** Where failures without a caller go: a batch that can't be encoded or sent, a malformed message. */
  onError?: (error: Error) => void;
  /** The runtime's CURVE keys: every socket encrypts and authenticates (without them: plain TCP, anyone may connect). */
  curve?: CurveKeys;
  /** Bytes that may be in flight toward one peer before further batches wait here (default 4 MiB). */
  window?: number;
  /** Milliseconds a peer may take nothing while messages wait for it before that is reported (default 10 s; 0: never). */
  sendTimeoutMs?: number;
  /**
   * A large batch (zmq-link.ts BULK_BYTES or more) started between this endpoint and `peer`,
   * either way: for as long as it takes to cross, nothing else on that stream passes it (the
   * driver's heartbeat allows for that).
   */
  onBulk?: (peer: Endpoint, bytes: number) => void;
}

/** One endpoint's sockets: a bound PULL for everything arriving, a PUSH per peer. */
export class ZmqTransport implements Transport {
  private readonly peers = new Map<Endpoint, string>();
  private readonly links = new Map<Endpoint, ZmqLink>();
  /** Peers declared dead: what is sent to them is dropped, and what they send from then on. */
  private readonly lost = new Set<Endpoint>();
  /** Peers whose process ended by itself: what they sent before is still taken until this time (ms). */
  private readonly lastWords = new Map<Endpoint, number>();
  /** Batches dropped because their sender isn't a live member, by sender. */
  private readonly refused = new Map<Endpoint, number>();
  /** Per sender: its stream's reader, and a handler call that names the sender (quiescence needs it). */
  private readonly readers = new Map<Endpoint, { reader: WireReader; deliver: (msg: Message, cause: number) => void }>();
  /** Large batches arriving in pieces (zmq-bulk.ts), by sender. */
  private readonly assembling = new Map<Endpoint, BulkAssembly>();
  private readonly batcher = new TurnBatcher<ZmqLink>((link) => link.post());
  private handler: MessageHandler | undefined;
  private idleWaiters: Array<{ pe: Endpoint | undefined; wake: () => void }> = [];
  private closed = false;
  /** Each resolves when the observer of a watched link has ended. */
  private readonly observers: Array<Promise<void>> = [];
  private settings: LinkSettings | undefined;
  private readonly defer = deferMicrotask();

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
      if (options.curve) releaseCurveServer(); // before the socket: see releaseCurveServer
      pull.close();
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

  /**
   * Sets this endpoint's number and adds peers (endpoint → tcp://host:port); sockets connect on
   * first use. `sendTimeoutMs` replaces the option's (a PE process learns it when it joins).
   */
  join(self: Endpoint, peers: Iterable<[Endpoint, string]>, sendTimeoutMs?: number): void {
    if (this.me !== undefined && this.me !== self) throw new Error(`this transport is endpoint ${this.me} already, not ${self}`);
    this.me = self;
    for (const [pe, address] of peers) if (pe !== self) this.peers.set(pe, address);
    this.settings ??= {
      self,
      window: this.options.window ?? DEFAULT_WINDOW,
      sendTimeoutMs: this.options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS,
      fail: (e) => this.fail(e),
      idle: () => this.wakeIfIdle(),
      bulk: (peer, bytes) => this.options.onBulk?.(peer, bytes),
    };
    if (sendTimeoutMs !== undefined) this.settings.sendTimeoutMs = sendTimeoutMs;
  }

  /** Never blocks: beyond the peer's credit, batches wait here in order (see drained). */
  send(to: Endpoint, msg: Message, transfer?: ArrayBuffer[], cause = 0): void {
    if (this.lost.has(to)) return; // a dead PE: the runtime has rejected what waited on it
    if (this.closed) return; // stopping: a chare still running (printing, stepping) sends into nothing, not into an error
    this.batcher.write(this.links.get(to) ?? this.open(to), msg, transfer, cause);
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
    const link = this.links.get(pe) ?? this.open(pe);
    const events = link.socket.events;
    events.on("disconnect", () => { if (!this.closed) onLost(); });
    // The observer ends a moment after its socket closes, on ZeroMQ's own thread (see whenClosed).
    this.observers.push(new Promise((resolve) => events.on("end", () => resolve())));
  }

  /**
   * Resolves once everything sent so far (to `pe`, or to anyone) has been handed to ZeroMQ
   * within its receiver's credit — nothing waits here for room. A loop that sends a lot awaits
   * it now and then to keep this endpoint's memory bounded (charm.drained()).
   */
  drained(pe?: Endpoint): Promise<void> {
    this.flush();
    if (this.isIdle(pe)) return Promise.resolve();
    return new Promise((wake) => this.idleWaiters.push({ pe, wake }));
  }

  /**
   * A peer was declared dead: what waits for it is dropped, and what is sent to it from now on;
   * what it sends from now on is dropped too (fenced), so a PE declared dead while still running
   * (stopped, stuck) can't act after its death was announced — except a peer that `ended`.
   */
  peerLost(pe: Endpoint): void {
    this.lost.add(pe);
    if (!this.lastWords.has(pe)) this.readers.delete(pe);
    this.assembling.delete(pe);
    const link = this.links.get(pe);
    if (!link) return;
    this.links.delete(pe);
    link.close();
    this.wakeIfIdle();
  }

  /**
   * `pe`'s process (or thread) ended by itself: it can send nothing more, and what it sent
   * before (a death report, its last output) may still be on the way when its end is announced.
   * That is taken for `ms` more; a peer declared dead without ending is fenced at once.
   */
  ended(pe: Endpoint, ms = LAST_WORDS_MS): void {
    if (this.lost.has(pe)) return; // fenced already (killed after it was declared dead): it stays so
    this.lastWords.set(pe, performance.now() + ms);
  }

  /** Batches dropped because their sender wasn't a live member (unknown, or declared dead), by sender. */
  refusedBatches(): ReadonlyMap<Endpoint, number> {
    return this.refused;
  }

  /** What flow control holds now and has held at most, summed over peers. */
  flowStats(): FlowStats {
    let refused = 0;
    for (const n of this.refused.values()) refused += n;
    const stats: FlowStats = { inFlight: 0, held: 0, peakInFlight: 0, peakHeld: 0, refused };
    for (const link of this.links.values()) {
      stats.inFlight += link.window.inFlight;
      stats.held += link.heldBytes;
      stats.peakInFlight = Math.max(stats.peakInFlight, link.window.peak);
      stats.peakHeld = Math.max(stats.peakHeld, link.peakHeld);
    }
    return stats;
  }

  /**
   * Closes every socket. What ZeroMQ still queues for a peer is delivered for up to the linger
   * (a second by default), unless `drop(peer)`: then it is dropped at once (see zmq-thread-end.ts).
   */
  close(drop?: (peer: Endpoint) => boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (this.options.curve) releaseCurveServer(); // before the socket: see releaseCurveServer
    this.pull.close();
    for (const [peer, link] of this.links) {
      if (drop?.(peer)) link.socket.linger = 0;
      link.close();
    }
    this.links.clear();
    for (const { wake } of this.idleWaiters.splice(0)) wake();
  }

  /**
   * Resolves once, after `close`, nothing of this transport receives any more: the observers of
   * watched links end after their sockets. A thread must not be terminated before (nor exit
   * with process.exit): a receive still pending then aborts the whole process (zeromq.js#411).
   */
  async whenClosed(): Promise<void> {
    await Promise.all([...this.observers, curveServerClosed()]);
  }

  private open(to: Endpoint): ZmqLink {
    const address = this.peers.get(to);
    if (address === undefined || !this.settings) throw new Error(`no channel from endpoint ${this.me} to ${to}`);
    if (this.closed) throw new Error(`endpoint ${this.me}'s transport is closed`);
    // Unbounded high-water mark: credit (zmq-link.ts) bounds what is in flight, and dropping or
    // blocking here would reorder or lose messages.
    // Heartbeats: a peer that stops answering (SIGSTOP, a vanished host) drops the connection
    // within 1.5 s, which `watch` reports; TCP alone would wait for minutes.
    const curve = this.options.curve ? curveClient(this.options.curve) : {};
    const socket = new zmq.Push({ linger: this.options.linger ?? 1000, sendHighWaterMark: 0, heartbeatInterval: 500, heartbeatTimeout: 1500, ...curve });
    socket.connect(address);
    const link = new ZmqLink(to, socket, this.settings);
    this.links.set(to, link);
    return link;
  }

  private isIdle(pe: Endpoint | undefined): boolean {
    if (pe !== undefined) return this.links.get(pe)?.idle ?? true;
    for (const link of this.links.values()) if (!link.idle) return false;
    return true;
  }

  private wakeIfIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const still = this.idleWaiters.filter(({ pe, wake }) => (this.closed || this.isIdle(pe) ? (wake(), false) : true));
    this.idleWaiters = still;
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (let frames of this.pull) {
        let sender: Endpoint | undefined;
        try {
          const head = peekHeader(frames);
          sender = head.sender;
          if (!this.member(sender)) {
            this.refused.set(sender, (this.refused.get(sender) ?? 0) + 1);
            continue;
          }
          if (head.count < 0) {
            const whole = this.piece(sender, head.count, frames);
            if (!whole) continue;
            frames = whole;
          }
          const { batch, grant } = decodeFrames(frames);
          const link = this.links.get(sender) ?? (this.peers.has(sender) && !this.lost.has(sender) && !this.closed ? this.open(sender) : undefined);
          if (grant > 0) link?.granted(grant);
          if (!batch) continue; // a grant alone
          let from = this.readers.get(sender);
          if (!from) this.readers.set(sender, (from = { reader: new WireReader(), deliver: (msg, cause) => this.handler?.(msg, cause, sender) }));
          from.reader.read(batch, from.deliver);
          // Handled: owed back to the sender as credit. Piggybacked on what goes its way this
          // turn; after the turn's flush, a grant alone once a quarter window is owed.
          if (link?.took(frameBytes(frames))) this.defer(() => link.pump());
        } catch (err) {
          // One bad message must not stop the loop for the others; a large batch it broke is dropped.
          if (sender !== undefined) this.assembling.delete(sender);
          this.fail(new Error(`endpoint ${this.me} received a message it can't decode: ${(err as Error).message}`));
        }
      }
    } catch (err) {
      if (!this.closed) this.fail(err as Error);
    }
  }

  /** Takes a large batch's start or piece (zmq-bulk.ts); the batch's frames once it is whole. */
  private piece(sender: Endpoint, kind: number, frames: Buffer[]): Buffer[] | undefined {
    if (kind === START) {
      if (this.assembling.has(sender)) throw new Error(`a large batch from endpoint ${sender} started before the last one was whole`);
      const bulk = new BulkAssembly(readStart(frames));
      this.assembling.set(sender, bulk);
      this.options.onBulk?.(sender, bulk.bytes);
      return undefined;
    }
    const bulk = this.assembling.get(sender);
    if (kind !== PIECE || !bulk) throw new Error(kind === PIECE ? `a piece of a large batch from endpoint ${sender} without its start` : `malformed transport message (word count ${kind})`);
    const whole = bulk.add(readPiece(frames));
    if (whole) this.assembling.delete(sender);
    return whole;
  }

  /** Whether a batch from `sender` is taken: a peer this endpoint joined with, alive (or its last words). */
  private member(sender: Endpoint): boolean {
    if (!this.peers.has(sender)) return false;
    if (!this.lost.has(sender)) return true;
    const until = this.lastWords.get(sender);
    return until !== undefined && performance.now() < until;
  }

  private fail(error: Error): void {
    if (this.options.onError) this.options.onError(error);
    else process.stderr.write(`charm4ts: ${error.message}\n`);
  }
}
