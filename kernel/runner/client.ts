// A minimal Jupyter client over ZeroMQ: what the notebook runner, the end-to-end tests and the
// benchmarks use to talk to a kernel. Requests resolve when both their reply and their idle
// have arrived, with every iopub message the request caused, in order.
import { randomUUID } from "node:crypto";
import * as zmq from "zeromq";
import { endpoint, type ConnectionInfo } from "../protocol/connection.ts";
import { PROTOCOL_VERSION, type Header, type Incoming } from "../protocol/messages.ts";
import { Signer } from "../protocol/signer.ts";
import { decodeFrames, encodeFrames } from "../protocol/wire.ts";

/** A message as the client sees it: header, parent, content (no routing). */
export interface Msg {
  channel: "shell" | "control" | "iopub" | "stdin";
  header: Header;
  parent_header: Partial<Header>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  /** Binary frames after the content (comm messages carry them); absent when none were kept. */
  buffers?: Buffer[];
}

/** A finished request: its reply and the iopub messages between busy and idle, inclusive. */
export interface Exchange {
  request: Header;
  reply: Msg;
  iopub: Msg[];
}

type Pending = {
  iopub: Msg[];
  reply?: Msg;
  idle: boolean;
  onIopub?: (m: Msg) => void;
  done(x: Exchange): void;
  header: Header;
};

/** Answers an input_request from the kernel (prompt → the line typed). */
export type InputHandler = (prompt: string, password: boolean) => string | Promise<string>;

/** A connected client with its own session id. */
export class KernelClient {
  readonly session = randomUUID();
  private readonly signer: Signer;
  private readonly sockets: { shell: zmq.Dealer; control: zmq.Dealer; stdin: zmq.Dealer; iopub: zmq.Subscriber };
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<(m: Msg) => void>();
  /** Answers the kernel's input_request; the default refuses. */
  onInput: InputHandler = () => {
    throw new Error("no input handler");
  };

  private constructor(private readonly info: ConnectionInfo) {
    this.signer = new Signer(info.key, info.signature_scheme);
    // jupyter_client gives shell and stdin the session as routing id, so the kernel can address
    // an input_request to the frontend that sent the execute.
    const id = { routingId: this.session, linger: 0 };
    this.sockets = {
      shell: new zmq.Dealer(id),
      control: new zmq.Dealer({ linger: 0 }),
      stdin: new zmq.Dealer(id),
      iopub: new zmq.Subscriber({ linger: 0 }),
    };
  }

  /** Connects to a kernel's sockets; call `waitReady` before relying on iopub. */
  static connect(info: ConnectionInfo): KernelClient {
    const c = new KernelClient(info);
    for (const ch of ["shell", "control", "stdin", "iopub"] as const) {
      c.sockets[ch].connect(endpoint(info, ch));
      void c.receive(ch);
    }
    c.sockets.iopub.subscribe();
    return c;
  }

  /** Sends kernel_info until one comes back with its iopub idle: both channels are then live. */
  async waitReady(timeoutMs = 20_000): Promise<Exchange> {
    const deadline = Date.now() + timeoutMs;
    // A SUB socket misses what is published before its subscription reaches the kernel (the
    // "slow joiner"), so one round trip is not proof that iopub works.
    while (Date.now() < deadline) {
      const x = await withTimeout(this.request("shell", "kernel_info_request", {}), 1000).catch(() => undefined);
      if (x) return x;
    }
    throw new Error(`kernel did not answer kernel_info with busy/idle within ${timeoutMs} ms`);
  }

  /** Sends a request and resolves with its reply and iopub traffic once idle was seen. */
  request(
    channel: "shell" | "control",
    msgType: string,
    content: Record<string, unknown>,
    onIopub?: (m: Msg) => void,
  ): Promise<Exchange> {
    const header = this.header(msgType);
    const done = new Promise<Exchange>((resolve) => {
      this.pending.set(header.msg_id, { iopub: [], idle: false, onIopub, done: resolve, header });
    });
    this.sendRaw(channel, header, {}, content);
    return done;
  }

  /** Executes code; `onIopub` sees each output as it arrives. */
  execute(code: string, options: Record<string, unknown> = {}, onIopub?: (m: Msg) => void): Promise<Exchange> {
    const content = { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: true, stop_on_error: true, ...options };
    return this.request("shell", "execute_request", content, onIopub);
  }

  /** Sends any message, signed, with this client's session (and metadata and binary buffers, for comms). */
  sendRaw(
    channel: "shell" | "control" | "stdin",
    header: Header,
    parent: Partial<Header>,
    content: unknown,
    extra: { metadata?: Record<string, unknown>; buffers?: Buffer[] } = {},
  ): void {
    const message = { identities: [], header, parent_header: parent, metadata: extra.metadata ?? {}, content, buffers: extra.buffers };
    void this.sockets[channel].send(encodeFrames(message, this.signer));
  }

  /** A header for a message from this client. */
  header(msgType: string): Header {
    return {
      msg_id: randomUUID(),
      session: this.session,
      username: "charm4ts-runner",
      date: new Date().toISOString(),
      msg_type: msgType,
      version: PROTOCOL_VERSION,
    };
  }

  /** Sees every message received on any channel (tests use it to check relations). */
  listen(fn: (m: Msg) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Disconnects. */
  close(): void {
    for (const s of Object.values(this.sockets)) if (!s.closed) s.close();
    for (const p of this.pending.values()) p.done = () => {};
  }

  private async receive(channel: Msg["channel"]): Promise<void> {
    const socket = this.sockets[channel];
    try {
      for await (const frames of socket) {
        const d = decodeFrames(frames, this.signer);
        if (!d.ok) continue;
        this.route(toMsg(channel, d.message));
      }
    } catch {
      // Closed by `close()`.
    }
  }

  private route(m: Msg): void {
    for (const fn of this.listeners) fn(m);
    if (m.channel === "stdin" && m.header.msg_type === "input_request") {
      void this.answerInput(m);
      return;
    }
    const p = m.parent_header.msg_id ? this.pending.get(m.parent_header.msg_id) : undefined;
    if (!p) return;
    if (m.channel === "iopub") {
      p.iopub.push(m);
      p.onIopub?.(m);
      if (m.header.msg_type === "status" && m.content.execution_state === "idle") p.idle = true;
    } else {
      p.reply = m;
    }
    if (p.reply && p.idle) {
      this.pending.delete(p.header.msg_id);
      p.done({ request: p.header, reply: p.reply, iopub: p.iopub });
    }
  }

  private async answerInput(m: Msg): Promise<void> {
    let value = "";
    try {
      value = await this.onInput(String(m.content.prompt ?? ""), m.content.password === true);
    } catch {
      value = "";
    }
    this.sendRaw("stdin", this.header("input_reply"), m.header, { value });
  }
}

function toMsg(channel: Msg["channel"], m: Incoming): Msg {
  return {
    channel,
    header: m.header,
    parent_header: m.parent_header,
    metadata: m.metadata,
    content: m.content as Record<string, unknown>,
    buffers: m.buffers,
  };
}

/** Rejects if `p` takes longer than `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what = "operation"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
