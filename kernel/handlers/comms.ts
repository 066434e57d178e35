// Comms (spec: "Custom Messages"). A frontend's comm_open, comm_msg and comm_close go to the
// handlers cells registered (kernel/cells/worker/comms.ts), also while a cell runs; a comm_open
// nobody registered is answered with comm_close on iopub, so the frontend doesn't keep a dead comm; a message for a comm that
// isn't open is logged and ignored. comm_info lists the open comms from this thread's table, so
// it answers even while a cell holds the executor's thread.
import type { CommWire } from "../cells/executor.ts";
import type { IncomingOf, ReplyContent } from "../protocol/messages.ts";
import { requiredString, stringField } from "./content.ts";
import type { KernelState, RequestScope } from "./context.ts";

/** The comm messages a frontend sends. */
export type CommMessageType = CommWire["type"];

/** The open comms (id → target), whichever side opened them. */
export class CommTable {
  private readonly open = new Map<string, string>();

  /** Whether comm `id` is open. */
  has(id: string): boolean {
    return this.open.has(id);
  }

  /** Records an open comm. */
  opened(id: string, target: string): void {
    this.open.set(id, target);
  }

  /** Forgets a comm (closed by either side). */
  closed(id: string): void {
    this.open.delete(id);
  }

  /** Follows what the kernel publishes: the comms cells open and close. */
  observe(msgType: string, content: unknown): void {
    const c = content as { comm_id?: unknown; target_name?: unknown };
    if (typeof c.comm_id !== "string") return;
    if (msgType === "comm_open" && typeof c.target_name === "string") this.opened(c.comm_id, c.target_name);
    else if (msgType === "comm_close") this.closed(c.comm_id);
  }

  /** The open comms, all or of one target, as comm_info_reply shows them. */
  list(target?: string): Record<string, { target_name: string }> {
    const comms: Record<string, { target_name: string }> = {};
    for (const [id, name] of this.open) if (target === undefined || name === target) comms[id] = { target_name: name };
    return comms;
  }

  /** Forgets every comm (their executor is gone) and returns their ids. */
  clear(): string[] {
    const ids = [...this.open.keys()];
    this.open.clear();
    return ids;
  }
}

/** comm_info_reply: the open comms, optionally only those of `target_name`. */
export function commInfo(state: KernelState, request: IncomingOf<"comm_info_request">): ReplyContent["comm_info_request"] {
  const target = stringField(request.content, "target_name", "");
  return { status: "ok", comms: state.comms.list(target === "" ? undefined : target) };
}

/**
 * Delivers a frontend's comm message to the cells' handlers and resolves once the handler has run
 * (not after the running cell). Malformed content throws InvalidRequest: the server logs it, and
 * these messages have no reply.
 */
export async function handleComm(state: KernelState, message: IncomingOf<CommMessageType>, scope: RequestScope): Promise<void> {
  const content = message.content as Record<string, unknown>;
  const id = requiredString(content, "comm_id");
  const wire: CommWire = {
    type: message.type,
    content: { comm_id: id, data: content.data ?? {} },
    metadata: message.metadata,
    buffers: message.buffers,
  };
  if (message.type === "comm_open") {
    const target = requiredString(content, "target_name");
    if (state.comms.has(id)) return scope.log(`comm_open for comm ${id}, which is already open: ignored`);
    wire.content.target_name = target;
    const outcome = await state.executor.deliverComm(wire, message.header);
    if (outcome.kind === "handled") {
      if (outcome.open) state.comms.opened(id, target);
      return;
    }
    // Closed at once, so the frontend doesn't keep a comm nobody listens to (spec: "Opening a Comm").
    scope.log(outcome.kind === "gone" ? `comm_open for "${target}": the cell executor is gone; closed` : `comm_open for "${target}", a target no cell registered: closed`);
    scope.publish("comm_close", { comm_id: id, data: {} });
    return;
  }
  if (!state.comms.has(id)) return scope.log(`${message.type} for comm ${id}, which is not open: ignored`);
  const outcome = await state.executor.deliverComm(wire, message.header);
  if (message.type === "comm_close" || outcome.kind !== "handled" || !outcome.open) state.comms.closed(id);
  if (outcome.kind === "unknown-comm") scope.log(`${message.type} for comm ${id}, which the cells don't know: ignored`);
  if (outcome.kind === "gone") scope.log(`${message.type} for comm ${id}: the cell executor is gone; ignored`);
}

/** Publishes a comm message the cells sent, its buffers as ZeroMQ frames. */
export function publishComm(publish: RequestScope["publish"], message: CommWire): void {
  const { comm_id, target_name, data } = message.content;
  const extra = {
    metadata: message.metadata,
    buffers: message.buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
  };
  switch (message.type) {
    case "comm_open":
      return publish("comm_open", { comm_id, target_name: target_name ?? "", data }, extra);
    case "comm_msg":
      return publish("comm_msg", { comm_id, data }, extra);
    case "comm_close":
      return publish("comm_close", { comm_id, data }, extra);
    default:
      message.type satisfies never;
  }
}
