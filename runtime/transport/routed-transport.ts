/**
 * One endpoint's transport when its peers are partly in this process and partly elsewhere: PEs
 * that are threads of the same process are reached over MessagePorts (near), everyone else over
 * ZeroMQ (far). Each destination always goes one way, so per-destination FIFO order holds; both
 * halves batch per turn on their own. Messages never pass through another endpoint.
 */
import type { Endpoint } from "../protocol/ids.ts";
import type { Message } from "../protocol/messages.ts";
import type { FlowStats, MessageHandler, Transport } from "./transport.ts";

/** Routes each destination to the transport that reaches it: the near one (ports) first. */
export class RoutedTransport implements Transport {
  constructor(private readonly near: Transport, private readonly far: Transport) {
    if (near.self !== far.self) throw new Error(`a routed transport joins two transports of one endpoint, not ${near.self} and ${far.self}`);
  }

  get self(): Endpoint {
    return this.near.self;
  }

  send(to: Endpoint, msg: Message, transfer?: ArrayBuffer[], cause?: number): void {
    (this.near.reaches(to) ? this.near : this.far).send(to, msg, transfer, cause);
  }

  flush(): void {
    this.near.flush();
    this.far.flush();
  }

  listen(handler: MessageHandler): void {
    this.near.listen(handler);
    this.far.listen(handler);
  }

  reaches(to: Endpoint): boolean {
    return this.near.reaches(to) || this.far.reaches(to);
  }

  sharesMemoryWith(to: Endpoint): boolean {
    return this.near.sharesMemoryWith?.(to) ?? false;
  }

  // No replacePeer: a PE of a runtime that has processes is not restarted in place.

  /** Only the far side has flow control: a near peer never makes a sender wait. */
  drained(to?: Endpoint): Promise<void> {
    if (to !== undefined && this.near.reaches(to)) return Promise.resolve();
    return this.far.drained ? this.far.drained(to) : Promise.resolve();
  }

  flowStats(): FlowStats {
    return this.far.flowStats?.() ?? { inFlight: 0, held: 0, peakInFlight: 0, peakHeld: 0 };
  }

  peerLost(pe: Endpoint): void {
    this.near.peerLost?.(pe);
    this.far.peerLost?.(pe);
  }

  close(): void {
    this.near.close();
    this.far.close();
  }
}
