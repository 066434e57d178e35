// The kernel's ZeroMQ sockets on its main thread (spec: "Introduction": shell/control/stdin ROUTER,
// iopub PUB; the heartbeat's REP has a thread of its own, heartbeat.ts) and a serialising sender
// for each, since zeromq.js allows one send at a time.
import * as zmq from "zeromq";
import { endpoint, type ConnectionInfo } from "../protocol/connection.ts";
import { bindPatiently } from "./bind-retry.ts";

/** Sends multipart messages on one socket in call order, never two at once. */
export class Sender {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: zmq.Writable,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Queues frames; the promise settles when zeromq has taken them (never rejects). */
  send(frames: Buffer[]): Promise<void> {
    this.tail = this.tail.then(
      () => this.socket.send(frames),
    ).catch(this.onError);
    return this.tail;
  }

  /** Resolves once everything queued so far was handed to zeromq. */
  flushed(): Promise<void> {
    return this.tail;
  }
}

/** The bound sockets of one kernel. */
export interface KernelSockets {
  shell: zmq.Router;
  control: zmq.Router;
  stdin: zmq.Router;
  iopub: zmq.Publisher;
}

/** Binds shell, control, stdin and iopub; a peer sending a frame over `maxMessageBytes` is disconnected. */
export async function bindSockets(info: ConnectionInfo, maxMessageBytes: number): Promise<KernelSockets> {
  // linger: let replies sent just before shutdown leave the process (milliseconds).
  // maxMessageSize: libzmq refuses a larger frame from its length prefix, before buffering it.
  const opts = { linger: 1000, maxMessageSize: maxMessageBytes };
  // handover: a client that connects with the identity of one already connected takes its place.
  // jupyter_client names a ROUTER peer by its session, which every client of one KernelManager
  // shares: without it a grader's second NotebookClient on a kept kernel got no reply at all.
  const routed = { ...opts, handover: true };
  const s: KernelSockets = {
    shell: new zmq.Router(routed),
    control: new zmq.Router(routed),
    stdin: new zmq.Router(routed),
    iopub: new zmq.Publisher(opts),
  };
  await Promise.all([
    bindPatiently(s.shell, endpoint(info, "shell")),
    bindPatiently(s.control, endpoint(info, "control")),
    bindPatiently(s.stdin, endpoint(info, "stdin")),
    bindPatiently(s.iopub, endpoint(info, "iopub")),
  ]);
  return s;
}

/** Closes every socket. */
export function closeSockets(s: KernelSockets): void {
  for (const sock of [s.shell, s.control, s.stdin, s.iopub]) if (!sock.closed) sock.close();
}
