// The kernel server: sockets in, typed messages to the pure handlers, replies and iopub out.
// Lifecycle: starting → running → stopping → stopped. Cells run in the executor's worker
// thread, so this thread keeps answering control while a cell loops; the heartbeat has a thread
// of its own, which keeps answering even while this one is busy.
import type * as zmq from "zeromq";
import { CellExecutor, type InputRequest } from "../cells/executor.ts";
import { CommTable, publishComm } from "../handlers/comms.ts";
import { InvalidRequest } from "../handlers/content.ts";
import { dispatch } from "../handlers/dispatch.ts";
import { publishOutput } from "../handlers/execute.ts";
import type { KernelState, RequestScope } from "../handlers/context.ts";
import { History } from "../handlers/history.ts";
import { endpoint, type ConnectionInfo } from "../protocol/connection.ts";
import type { Header, Incoming, IopubContent, IopubExtra, IopubType, Outgoing } from "../protocol/messages.ts";
import { errorReply, inputRequest, iopub, newKernelSession, reply, unknownReply, type KernelSession } from "../protocol/reply.ts";
import { Signer } from "../protocol/signer.ts";
import { decodeFrames, encodeFrames } from "../protocol/wire.ts";
import { RequestQueue, type Queued } from "./request-queue.ts";
import { startHeartbeat, type Heartbeat } from "./heartbeat.ts";
import { bindSockets, closeSockets, Sender, type KernelSockets } from "./sockets.ts";
import { startCellExecutor } from "./start-executor.ts";
import { log } from "./log.ts";

// How long shutdown waits for the executor to close before the process exits regardless: it
// interrupts a running cell and stops the PEs first (CellExecutor.close), within about 4 s.
const CLOSE_GRACE_MS = 4500;

type Phase = "starting" | "running" | "stopping" | "stopped";
type RoutedChannel = "shell" | "control" | "stdin";

// Shell messages served in a lane of their own, beside the shell queue: a running cell doesn't
// hold them up, and they keep their order among themselves (README, "Protocol").
const COMM_LANE: ReadonlySet<Incoming["type"]> = new Set(["comm_open", "comm_msg", "comm_close", "comm_info_request"]);

/** A running Jupyter kernel bound to one connection file. */
export class Kernel {
  private phase: Phase = "starting";
  private readonly ks: KernelSession = newKernelSession();
  private readonly signer: Signer;
  private readonly senders: Record<RoutedChannel | "iopub", Sender>;
  private readonly shellQueue = new RequestQueue();
  private readonly controlQueue = new RequestQueue();
  private readonly commQueue = new RequestQueue();
  // History and the execution count outlive any one executor; `executor` is set once one is up.
  private readonly state: KernelState = { executor: undefined as never, history: new History(), executionCount: 0, comms: new CommTable() };
  private executorReady!: Promise<CellExecutor>;
  // stop_on_error: executes that arrived up to this sequence number are answered "abort".
  private abortThrough = 0;
  private lastExecute: Incoming | undefined;
  private pendingInput: { msgId: string; resolve(v: string): void; reject(e: Error): void } | undefined;
  private readonly exited: Promise<void>;
  private finish!: () => void;

  private constructor(
    private readonly sockets: KernelSockets,
    private readonly heartbeat: Heartbeat,
    info: ConnectionInfo,
    private readonly cwd: string,
    firstExecutor?: Promise<CellExecutor>,
  ) {
    this.signer = new Signer(info.key, info.signature_scheme);
    const onError = (e: unknown) => log(`send failed: ${errorText(e)}`);
    this.senders = {
      shell: new Sender(sockets.shell, onError),
      control: new Sender(sockets.control, onError),
      stdin: new Sender(sockets.stdin, onError),
      iopub: new Sender(sockets.iopub, onError),
    };
    this.exited = new Promise((r) => (this.finish = r));
    this.startExecutor(firstExecutor);
  }

  /** Starts a cell executor (or takes one already starting); the kernel serves cells once it is up. */
  private startExecutor(starting = startCellExecutor(this.cwd)): void {
    const ready = starting.then((executor) => {
      this.state.executor = executor;
      // Output after its cell finished (a timer's console.log) goes out under the last
      // execute, as ipykernel does: frontends that still track that cell show it there.
      executor.onLateOutput = (o) => {
        if (this.lastExecute) publishOutput(this.scope(this.lastExecute), o);
      };
      executor.onExit = (reason) => this.onExecutorExit(reason);
      // What a comm handler sends goes out under the frontend message that ran it.
      executor.onCommOutput = (origin, message) =>
        publishComm((msgType, content, extra) => this.publish({ header: origin as Header }, msgType, content, extra), message);
      executor.onCommError = (text) => log(text);
      if (this.phase === "starting") this.phase = "running";
      return executor;
    });
    this.executorReady = ready;
    ready.catch((e) => {
      log(`cannot start the cell executor: ${errorText(e)}`);
      void this.stop(1);
    });
  }

  /** The executor's worker died on its own (out of memory): say so, and start a fresh one. */
  private onExecutorExit(reason: string): void {
    if (this.phase === "stopping" || this.phase === "stopped") return;
    log(`cell executor exited: ${reason}`);
    const text =
      `charm4ts: the cell executor stopped (${reason}). All variables and definitions are lost; ` +
      "a fresh executor was started. Re-run the cells you need.\n";
    this.publish(this.lastExecute, "stream", { name: "stderr", text });
    // Their handlers are gone with the executor: the frontend's side of each comm is closed.
    for (const id of this.state.comms.clear()) this.publish(this.lastExecute, "comm_close", { comm_id: id, data: {} });
    this.startExecutor();
  }

  /**
   * Binds the sockets, announces `starting` and serves until shutdown. `options.executor` is a
   * cell executor and `options.heartbeat` a heartbeat thread already starting (see main.ts), else
   * the kernel starts them. No socket accepts a frame over `options.maxMessageBytes`.
   */
  static async start(
    info: ConnectionInfo,
    options: { cwd: string; maxMessageBytes: number; executor?: Promise<CellExecutor>; heartbeat?: Heartbeat },
  ): Promise<Kernel> {
    const heartbeat = options.heartbeat ?? startHeartbeat(endpoint(info, "hb"), options.maxMessageBytes);
    const kernel = new Kernel(await bindSockets(info, options.maxMessageBytes), heartbeat, info, options.cwd, options.executor);
    // Not awaited: the first reply needn't wait for the thread to boot (frontends retry pings). A
    // heartbeat that can't bind would get the kernel declared dead, so it stops at once instead.
    heartbeat.ready.catch((e: unknown) => {
      log(`cannot start: ${errorText(e)}`);
      void kernel.stop(1);
    });
    kernel.run();
    return kernel;
  }

  /** Resolves when the kernel has shut down and closed its sockets. */
  get done(): Promise<void> {
    return this.exited;
  }

  private run(): void {
    // Published once, at start-up; a frontend that subscribes later simply misses it.
    this.publish(undefined, "status", { execution_state: "starting" });
    void this.receive(this.sockets.shell, "shell", (m) => (COMM_LANE.has(m.type) ? this.commQueue : this.shellQueue).push(m));
    void this.receive(this.sockets.control, "control", (m) => this.controlQueue.push(m));
    void this.receive(this.sockets.stdin, "stdin", (m) => this.onStdin(m));
    const onError = (e: unknown) => log(`request failed: ${errorText(e)}`);
    void this.shellQueue.run((q) => this.serve(q, "shell"), onError);
    void this.controlQueue.run((q) => this.serve(q, "control"), onError);
    void this.commQueue.run((q) => this.serve(q, "shell"), onError);
  }

  /** Decodes every multipart message of a socket; a bad one is logged and dropped, never fatal. */
  private async receive(socket: zmq.Router, channel: RoutedChannel, accept: (m: Incoming) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        const decoded = decodeFrames(frames, this.signer);
        if (decoded.ok) accept(decoded.message);
        else log(`dropped a message on ${channel}: ${decoded.reason}`);
      }
    } catch (e) {
      if (!socket.closed) log(`${channel} receive loop ended: ${errorText(e)}`);
    }
  }

  /** Serves one request: busy, the handler (its outputs), the reply, idle. */
  private async serve({ seq, message }: Queued, channel: "shell" | "control"): Promise<void> {
    if (this.phase === "stopping" || this.phase === "stopped") return;
    this.publish(message, "status", { execution_state: "busy" });
    try {
      // Every request gets a reply: a handler that throws is answered with an error reply.
      const answer = await this.answer(message, seq, channel).catch((e: unknown) => this.failed(message, e));
      // Not awaited: each socket keeps its own order, and idle need not wait for the reply frame.
      if (answer) void this.senders[channel].send(this.encodeReply(message, answer));
      if (message.type === "shutdown_request") {
        this.publish(message, "shutdown_reply", { status: "ok", restart: message.content.restart === true });
      }
    } finally {
      this.publish(message, "status", { execution_state: "idle" });
    }
    if (message.type === "shutdown_request") await this.stop(0);
  }

  /** The reply to one request, or undefined for messages that have none. */
  private async answer(message: Incoming, seq: number, channel: "shell" | "control"): Promise<Outgoing | undefined> {
    if (message.type === "execute_request" && seq <= this.abortThrough && channel === "shell") {
      return reply(this.ks, message, { status: "abort" });
    }
    // kernel_info and shutdown need no executor, so the first reply doesn't wait for the worker.
    const needsExecutor = message.type !== "kernel_info_request" && message.type !== "shutdown_request";
    if (needsExecutor) await this.executorReady;
    if (message.type === "execute_request" && message.content.silent !== true) this.lastExecute = message;
    const result = await dispatch(this.state, message, this.scope(message));
    if (!result) return message.type === "unknown" ? unknownReply(this.ks, message) : undefined;
    if (
      result.type === "execute_request" &&
      result.content.status === "error" &&
      message.type === "execute_request" &&
      message.content.stop_on_error !== false
    ) {
      // Every execute already received behind the failed one is aborted, none later.
      this.abortThrough = this.shellQueue.lastSeq;
    }
    return reply(this.ks, message as Incoming & { type: typeof result.type }, result.content as never);
  }

  /** The error reply to a request whose handling threw (none for messages without replies). */
  private failed(message: Incoming, e: unknown): Outgoing | undefined {
    const error = e instanceof Error ? e : new Error(String(e));
    log(`answered ${message.header.msg_type} with an error: ${error.name}: ${error.message}`);
    // Malformed content is the sender's mistake: the kernel's own stack would tell it nothing.
    const traceback = e instanceof InvalidRequest ? [] : (error.stack ?? "").split("\n");
    // execute_reply always carries a count, as ipykernel's error replies do.
    const extra = message.type === "execute_request" ? { execution_count: this.state.executionCount } : {};
    return errorReply(this.ks, message, { ename: error.name, evalue: error.message, traceback }, extra);
  }

  /** A reply's frames; content that can't be encoded (a cycle, a BigInt) becomes an error reply. */
  private encodeReply(message: Incoming, answer: Outgoing): Buffer[] {
    try {
      return encodeFrames(answer, this.signer);
    } catch (e) {
      // Only requests have answers, so there is always an error reply to send instead.
      return encodeFrames(this.failed(message, e)!, this.signer);
    }
  }

  private scope(parent: Incoming): RequestScope {
    return {
      publish: (msgType, content, extra) => this.publish(parent, msgType, content, extra),
      input: (req) => this.requestInput(parent, req),
      log,
    };
  }

  private publish<T extends IopubType>(parent: Pick<Incoming, "header"> | undefined, msgType: T, content: IopubContent[T], extra?: IopubExtra): void {
    this.state.comms.observe(msgType, content);
    void this.senders.iopub.send(encodeFrames(iopub(this.ks, parent, msgType, content, extra), this.signer));
  }

  /** Sends input_request on stdin and waits for the matching input_reply. */
  private requestInput(parent: Incoming, req: InputRequest): Promise<string> {
    if (parent.type === "execute_request" && parent.content.allow_stdin === false) {
      return Promise.reject(new Error("input is not available: this frontend does not accept stdin"));
    }
    this.pendingInput?.reject(new Error("a newer input request replaced this one"));
    const out = inputRequest(this.ks, parent, { prompt: req.prompt, password: req.password });
    return new Promise<string>((resolve, reject) => {
      this.pendingInput = { msgId: out.header.msg_id, resolve, reject };
      void this.senders.stdin.send(encodeFrames(out, this.signer));
    });
  }

  private onStdin(message: Incoming): void {
    const pending = this.pendingInput;
    if (message.type !== "input_reply" || !pending || message.parent_header.msg_id !== pending.msgId) {
      log(`ignored ${message.header.msg_type} on stdin: no matching input_request`);
      return;
    }
    this.pendingInput = undefined;
    pending.resolve(String(message.content.value ?? ""));
  }

  /** SIGINT (interrupt_mode "signal"): stop the running cell; the kernel and its state live on. */
  interrupt(): void {
    this.state.executor?.interrupt();
    const pending = this.pendingInput;
    this.pendingInput = undefined;
    pending?.reject(Object.assign(new Error("input interrupted"), { name: "KeyboardInterrupt" }));
  }

  /** Stops serving, ends the executor and closes sockets once queued messages were handed over. */
  async stop(exitCode: number): Promise<void> {
    if (this.phase === "stopping" || this.phase === "stopped") return this.exited;
    this.phase = "stopping";
    // Closed first, not waited for yet: even a stop that hangs below leaves no thread that would
    // abort the process's forced exit.
    const heartbeatClosed = this.heartbeat.close();
    this.shellQueue.close();
    this.controlQueue.close();
    this.commQueue.close();
    this.pendingInput?.reject(new Error("the kernel is shutting down"));
    try {
      // A worker stuck in user code may not answer a polite close; exiting the process ends it.
      const executor = await this.executorReady;
      await Promise.race([executor.close(), new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref())]);
    } catch (e) {
      log(`executor close failed: ${errorText(e)}`);
    }
    await Promise.all(Object.values(this.senders).map((s) => s.flushed()));
    closeSockets(this.sockets);
    await heartbeatClosed;
    this.phase = "stopped";
    process.exitCode = exitCode;
    this.finish();
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
