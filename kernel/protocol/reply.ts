// The one place outgoing messages are built. Each is a child of the request it answers, so a
// reply can't carry the wrong msg_type or parent (a client matches replies to requests by both).
import { randomUUID } from "node:crypto";
import {
  PROTOCOL_VERSION,
  type ErrorReply,
  type Header,
  type Incoming,
  type InputRequestContent,
  type IopubContent,
  type IopubExtra,
  type IopubType,
  type Outgoing,
  type ReplyContent,
  type ReplyType,
  type RequestType,
} from "./messages.ts";

/** The kernel's identity in headers: its own session id, fixed for the process's life. */
export interface KernelSession {
  session: string;
  username: string;
}

/** Creates the kernel's session identity. */
export function newKernelSession(): KernelSession {
  return { session: randomUUID(), username: "kernel" };
}

/** A header for a message the kernel originates. */
export function header(ks: KernelSession, msgType: string): Header {
  return {
    msg_id: randomUUID(),
    session: ks.session,
    username: ks.username,
    date: new Date().toISOString(),
    msg_type: msgType,
    version: PROTOCOL_VERSION,
  };
}

/** The reply msg_type for a request type (`execute_request` → `execute_reply`). */
export function replyType<R extends RequestType>(requestType: R): ReplyType<R> {
  return requestType.replace(/_request$/, "_reply") as ReplyType<R>;
}

/** The reply to a request, routed back to its sender. */
export function reply<R extends RequestType>(
  ks: KernelSession,
  request: Incoming & { type: R },
  content: ReplyContent[R],
): Outgoing {
  return {
    identities: request.identities,
    header: header(ks, replyType(request.type as R)),
    parent_header: request.header,
    metadata: {},
    content,
  };
}

/**
 * An error reply to any request, typed `<name>_reply` from the request's msg_type (so also for
 * types the kernel doesn't know); undefined for messages that aren't requests and get no reply.
 */
export function errorReply(
  ks: KernelSession,
  request: Incoming,
  error: Omit<ErrorReply, "status">,
  extra: Record<string, unknown> = {},
): Outgoing | undefined {
  const t = request.header.msg_type;
  if (!t.endsWith("_request")) return undefined;
  return {
    identities: request.identities,
    header: header(ks, t.replace(/_request$/, "_reply")),
    parent_header: request.header,
    metadata: {},
    content: { ...extra, status: "error", ...error },
  };
}

/** A reply to a request whose type the kernel doesn't know: an error, typed `<name>_reply`. */
export function unknownReply(ks: KernelSession, request: Incoming): Outgoing | undefined {
  const evalue = `charm4ts does not handle ${request.header.msg_type}`;
  return errorReply(ks, request, { ename: "UnknownMessageType", evalue, traceback: [] });
}

/** An iopub message caused by a request (or by nothing, for `starting`); comm messages add metadata and buffers. */
export function iopub<T extends IopubType>(
  ks: KernelSession,
  parent: Pick<Incoming, "header"> | undefined,
  msgType: T,
  content: IopubContent[T],
  extra: IopubExtra = {},
): Outgoing {
  // The PUB topic frame: frontends subscribe to everything, ipykernel uses "kernel.<id>.<type>".
  return {
    identities: [Buffer.from(`kernel.${ks.session}.${msgType}`)],
    header: header(ks, msgType),
    parent_header: parent?.header ?? {},
    metadata: extra.metadata ?? {},
    content,
    buffers: extra.buffers,
  };
}

/** The kernel's input_request on stdin, addressed to the frontend that sent the execute. */
export function inputRequest(ks: KernelSession, parent: Incoming, content: InputRequestContent): Outgoing {
  return {
    identities: parent.identities,
    header: header(ks, "input_request"),
    parent_header: parent.header,
    metadata: {},
    content,
  };
}
