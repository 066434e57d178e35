/**
 * How messages move between endpoints. One small class per mechanism (port-transport.ts:
 * MessagePorts between threads; zmq-transport.ts: ZeroMQ between processes; routed-transport.ts
 * picks one per destination). A transport
 * keeps per-destination FIFO order and may batch: messages sent in one turn of the event
 * loop leave together at its end.
 */
import type { Endpoint } from "../protocol/ids.ts";
import type { Message } from "../protocol/messages.ts";

/**
 * Receives every message that arrives, in order per sender, with its cause: a number the sender
 * attached (a notebook cell's), so work and its output can be traced back; 0 when none. `from`
 * (when the transport knows it) lets quiescence detection leave out a dead PE's traffic.
 */
export type MessageHandler = (msg: Message, cause: number, from?: Endpoint) => void;

/** What flow control holds and has held, summed over peers (bytes). */
export interface FlowStats {
  /** Sent and not yet granted back by the receivers: what the transport below may be queueing. */
  inFlight: number;
  /** Waiting in this endpoint for credit. */
  held: number;
  /** The most in flight toward one peer, and held for one peer, so far. */
  peakInFlight: number;
  peakHeld: number;
  /** Batches that arrived from a sender that isn't a live member (unknown, or declared dead), dropped. */
  refused?: number;
}

/** A way to reach other endpoints. */
export interface Transport {
  /** This endpoint's own number. */
  readonly self: Endpoint;
  /** Queues `msg` for `to`; `transfer` lists buffers nobody else holds (moved, not copied). */
  send(to: Endpoint, msg: Message, transfer?: ArrayBuffer[], cause?: number): void;
  /** Sends everything queued now instead of at the end of the turn. */
  flush(): void;
  /** Installs the one handler for arriving messages. */
  listen(handler: MessageHandler): void;
  /** Whether `to` can be reached at all (for a clear error instead of a silent drop). */
  reaches(to: Endpoint): boolean;
  /** Whether `to` is a thread of this process (a SharedArrayBuffer sent there is shared, not copied); absent: never. */
  sharesMemoryWith?(to: Endpoint): boolean;
  /** A restarted peer: from now on `to` is reached over `channel` (a MessagePort for threads). */
  replacePeer?(to: Endpoint, channel: unknown): void;
  /**
   * Resolves once nothing sent (to `to`, or to anyone) waits in this endpoint for room: with
   * flow control (ZeroMQ), once it is within the receivers' credit. Absent: nothing ever waits.
   */
  drained?(to?: Endpoint): Promise<void>;
  /** What flow control holds now and has held (transports with flow control only). */
  flowStats?(): FlowStats;
  /** A peer was declared dead: drop what waits for it, what is sent to it, and what it sends, from now on. */
  peerLost?(pe: Endpoint): void;
  /** Stops receiving and releases the underlying channels. */
  close(): void;
}
