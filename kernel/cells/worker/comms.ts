/**
 * Jupyter comms as a cell sees them (the `comms` global; spec: "Custom Messages"): targets a
 * notebook registers for the frontend to open, comms the notebook opens, messages both ways with
 * binary buffers. This executor-thread half keeps the comms and calls their handlers; the kernel's
 * thread keeps a table of the open ones (comm_info) and does the Jupyter side.
 *
 * A frontend's message is delivered while a cell runs, between its awaits: its handler runs in
 * this thread's event loop, like a timer. What a handler sends (also later, from what it awaits or
 * starts) goes out under the message that ran it, followed through `AsyncLocalStorage`; what a
 * cell sends goes out as the cell's output.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { CommOutcome, CommWire } from "../protocol.ts";

/** Binary data a comm message carries: an ArrayBuffer or any view on one (Uint8Array, Float64Array, DataView, Buffer…). */
export type CommBuffer = ArrayBuffer | ArrayBufferView;

/** A message received on a comm: its JSON `data`, the message's `metadata`, and its binary `buffers`. */
export interface CommMessage<T = any> {
  readonly data: T;
  readonly metadata: Record<string, unknown>;
  readonly buffers: Uint8Array[];
}

/** Called with each message a comm receives (may be async: it is not awaited, a rejection is reported). */
export type CommHandler = (message: CommMessage) => void;

/** One comm: a channel between this notebook and an object in the frontend. */
export interface Comm {
  /** The comm's id, shared with the frontend. */
  readonly id: string;
  /** The target it was opened for. */
  readonly targetName: string;
  /** Whether it has been closed, by either side. */
  readonly closed: boolean;
  /** Sends `data` (a JSON object) to the frontend, with message metadata and binary buffers. */
  send(data?: Record<string, unknown>, metadata?: Record<string, unknown>, buffers?: CommBuffer[]): void;
  /** Closes the comm (the frontend is told; the comm's own `onClose` handler is not called). */
  close(data?: Record<string, unknown>, metadata?: Record<string, unknown>, buffers?: CommBuffer[]): void;
  /** Sets the handler of the messages the frontend sends on this comm (replacing the previous one). */
  onMsg(handler: CommHandler): Comm;
  /** Sets the handler called when the frontend closes this comm. */
  onClose(handler: CommHandler): Comm;
}

/** Called when the frontend opens a comm for a registered target, with the comm and the open message (may be async). */
export type CommTargetHandler = (comm: Comm, open: CommMessage) => void;

/** The `comms` global of every cell. */
export interface CellComms {
  /** Lets the frontend open comms for `target`: `handler` gets each new comm (replaces an earlier registration). */
  register(target: string, handler: CommTargetHandler): void;
  /** Stops accepting new comms for `target` (open ones stay open); whether it was registered. */
  unregister(target: string): boolean;
  /** Opens a comm to a target the frontend registered, sending `data` with the open. */
  open(target: string, data?: Record<string, unknown>, metadata?: Record<string, unknown>, buffers?: CommBuffer[]): Comm;
  /** The open comms, optionally only those of one target. */
  list(target?: string): Comm[];
}

/** How the hub reaches the kernel. */
export interface CommIo {
  /** Sends a comm message: `origin` is the frontend message whose handler sent it, undefined from a cell. */
  publish(message: CommWire, origin: unknown): void;
  /** A handler threw (or its promise rejected); `what` says which handler. */
  failed(error: unknown, what: string): void;
}

/** The comms of this executor and the handlers cells registered. */
export class CommHub {
  /** The `comms` global. */
  readonly api: CellComms;
  private readonly targets = new Map<string, CommTargetHandler>();
  private readonly open = new Map<string, CommImpl>();
  // The frontend message whose handler is running (or ran what runs now); undefined in cell code.
  private readonly origin = new AsyncLocalStorage<unknown>();
  /** Handlers that returned a promise not settled yet: their continuations still need `origin`. */
  private pendingAsync = 0;
  // The delivery whose handler runs now: if an interrupt terminates it, nothing after it runs, so
  // the next message to this thread finds it here and answers it (settleCutShort).
  private running: { what: string; comm: CommImpl; done(outcome: CommOutcome): void } | undefined;

  constructor(private readonly io: CommIo) {
    this.api = {
      register: (target, handler) => {
        checkTarget("comms.register", target);
        if (typeof handler !== "function") throw new TypeError("comms.register: handler must be a function (comm, openMessage) => void");
        this.targets.set(target, handler);
      },
      unregister: (target) => this.targets.delete(target),
      open: (target, data, metadata, buffers) => {
        checkTarget("comms.open", target);
        const comm = new CommImpl(this, randomUUID(), target);
        this.publish(comm, "comm_open", "comms.open", data, metadata, buffers, { target_name: target });
        this.open.set(comm.id, comm);
        return comm;
      },
      list: (target) => [...this.open.values()].filter((c) => target === undefined || c.targetName === target),
    };
  }

  /**
   * Runs the handler of a frontend's comm message now and calls `done` with the outcome; `origin`
   * goes with whatever that handler sends.
   */
  deliver(message: CommWire, origin: unknown, done: (outcome: CommOutcome) => void): void {
    done(this.handle(message, origin, done));
  }

  /**
   * Answers a delivery whose handler an interrupt terminated (an endless loop): reported like a
   * handler that threw, the comm stays open. Called before anything else this thread is sent.
   */
  settleCutShort(): void {
    const cut = this.running;
    if (!cut) return;
    this.running = undefined;
    // The termination also skipped run()'s restore of the origin, which would stay on this
    // thread's message handling (and every cell it starts) if not cleared here.
    if (this.pendingAsync > 0) this.origin.enterWith(undefined);
    else this.origin.disable(); // (quiet(): no async context left on for the next termination)
    this.io.failed(new Error("stopped by an interrupt"), cut.what);
    cut.done({ kind: "handled", open: !cut.comm.closed });
  }

  private handle(message: CommWire, origin: unknown, done: (outcome: CommOutcome) => void): CommOutcome {
    const id = message.content.comm_id;
    const received: CommMessage = { data: message.content.data, metadata: message.metadata, buffers: message.buffers };
    switch (message.type) {
      case "comm_open": {
        const target = String(message.content.target_name);
        const handler = this.targets.get(target);
        if (!handler) return { kind: "unknown-target" };
        const comm = new CommImpl(this, id, target);
        this.open.set(id, comm);
        // An open handler that fails leaves a comm nobody handles: it is closed, as ipykernel does.
        const ok = this.run(origin, `the comm target "${target}"`, comm, done, () => handler(comm, received));
        if (!ok && !comm.closed) comm.close();
        return { kind: "handled", open: !comm.closed };
      }
      case "comm_msg": {
        const comm = this.open.get(id);
        if (!comm) return { kind: "unknown-comm" };
        const handler = comm.msgHandler;
        if (handler) this.run(origin, `the message handler of comm ${id} ("${comm.targetName}")`, comm, done, () => handler(received));
        return { kind: "handled", open: !comm.closed };
      }
      case "comm_close": {
        const comm = this.open.get(id);
        if (!comm) return { kind: "unknown-comm" };
        this.forget(comm);
        const handler = comm.closeHandler;
        if (handler) this.run(origin, `the close handler of comm ${id} ("${comm.targetName}")`, comm, done, () => handler(received));
        return { kind: "handled", open: false };
      }
      default:
        message.type satisfies never;
        return { kind: "unknown-comm" };
    }
  }

  /** Sends one message of `comm`, after checking what the cell passed. */
  publish(
    comm: CommImpl,
    type: CommWire["type"],
    caller: string,
    data: unknown,
    metadata: unknown,
    buffers: unknown,
    extra: { target_name?: string } = {},
  ): void {
    const message: CommWire = {
      type,
      content: { comm_id: comm.id, ...extra, data: jsonObject(caller, "data", data) },
      metadata: jsonObject(caller, "metadata", metadata),
      buffers: bufferList(caller, buffers),
    };
    this.io.publish(message, this.origin.getStore());
  }

  /** Drops a closed comm. */
  forget(comm: CommImpl): void {
    comm.closed = true;
    this.open.delete(comm.id);
  }

  /** Calls a handler under `origin`; its error (thrown or rejected) is reported. Whether it didn't throw. */
  private run(origin: unknown, what: string, comm: CommImpl, done: (outcome: CommOutcome) => void, handler: () => unknown): boolean {
    // Cleared on each way out but termination, which no catch or later statement survives.
    this.running = { what, comm, done };
    try {
      const result = this.origin.run(origin, handler);
      if (isThenable(result)) {
        this.pendingAsync++;
        result.then(() => this.settled(), (error: unknown) => { this.settled(); this.io.failed(error, what); });
      }
    } catch (error) {
      this.running = undefined;
      this.io.failed(error, what);
      this.quiet();
      return false;
    }
    this.running = undefined;
    this.quiet();
    return true;
  }

  private settled(): void {
    this.pendingAsync--;
    this.quiet();
  }

  /**
   * Turns the async context off once no handler needs it. While it is on, Node runs async hooks
   * for every promise on this thread, and V8's termination of a cell's busy loop inside a promise
   * job (`await x; for (;;) {}`, the interrupt) then aborted the whole kernel process (Node 20).
   */
  private quiet(): void {
    if (this.pendingAsync === 0) this.origin.disable();
  }
}

/** A comm's state; its methods check their arguments before anything is sent. */
class CommImpl implements Comm {
  closed = false;
  msgHandler: CommHandler | undefined;
  closeHandler: CommHandler | undefined;

  constructor(
    private readonly hub: CommHub,
    readonly id: string,
    readonly targetName: string,
  ) {}

  send(data?: Record<string, unknown>, metadata?: Record<string, unknown>, buffers?: CommBuffer[]): void {
    if (this.closed) throw new Error(`comm.send: comm ${this.id} ("${this.targetName}") is closed`);
    this.hub.publish(this, "comm_msg", "comm.send", data, metadata, buffers);
  }

  close(data?: Record<string, unknown>, metadata?: Record<string, unknown>, buffers?: CommBuffer[]): void {
    if (this.closed) return;
    this.hub.publish(this, "comm_close", "comm.close", data, metadata, buffers);
    this.hub.forget(this);
  }

  onMsg(handler: CommHandler): Comm {
    if (typeof handler !== "function") throw new TypeError("comm.onMsg: handler must be a function (message) => void");
    this.msgHandler = handler;
    return this;
  }

  onClose(handler: CommHandler): Comm {
    if (typeof handler !== "function") throw new TypeError("comm.onClose: handler must be a function (message) => void");
    this.closeHandler = handler;
    return this;
  }
}

function checkTarget(caller: string, target: unknown): asserts target is string {
  if (typeof target !== "string" || target === "") throw new TypeError(`${caller}: the target name must be a non-empty string`);
}

/**
 * A copy of `value` as a JSON object (absent: `{}`), as the spec requires of `data` and
 * `metadata`; a value JSON can't carry (a BigInt, a cycle) fails here, naming the argument.
 */
function jsonObject(caller: string, name: string, value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${caller}: ${name} must be a JSON object (wrap other values: { value: … })`);
  }
  try {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch (error) {
    throw new TypeError(`${caller}: ${name} can't be sent as JSON: ${(error as Error).message}`);
  }
}

/** Each buffer as a Uint8Array over its bytes (copied when it crosses to the kernel's thread). */
function bufferList(caller: string, buffers: unknown): Uint8Array[] {
  if (buffers === undefined || buffers === null) return [];
  if (!Array.isArray(buffers)) throw new TypeError(`${caller}: buffers must be an array of ArrayBuffers or typed arrays`);
  return buffers.map((b, i) => {
    if (b instanceof ArrayBuffer || b instanceof SharedArrayBuffer) return new Uint8Array(b);
    if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    throw new TypeError(`${caller}: buffers[${i}] must be an ArrayBuffer or a typed array, not ${typeof b}`);
  });
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof (x as { then?: unknown } | null)?.then === "function";
}
