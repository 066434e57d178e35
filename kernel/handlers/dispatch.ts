// Routes a decoded request to its handler: one exhaustive switch over the message union.
// Returns the reply's content (or nothing for messages that have no reply); sending it, and
// acting on shutdown, is the server's job. A handler that throws (InvalidRequest for malformed
// content) is answered by the server with an error reply of the request's type.
import type { Incoming, RequestType, ReplyContent } from "../protocol/messages.ts";
import type { KernelState, RequestScope } from "./context.ts";
import { handleExecute } from "./execute.ts";
import { readHistoryRequest } from "./history.ts";
import { commInfo, handleComm } from "./comms.ts";
import { kernelInfo } from "./info.ts";
import { handleComplete, handleInspect, handleIsComplete } from "./introspect.ts";

/** A handler's answer: the reply content of a request type, or none. */
export type Answer = { [R in RequestType]: { type: R; content: ReplyContent[R] } }[RequestType] | undefined;

/** Handles one message and returns its reply content. */
export async function dispatch(state: KernelState, message: Incoming, scope: RequestScope): Promise<Answer> {
  switch (message.type) {
    case "kernel_info_request":
      return { type: message.type, content: kernelInfo() };
    case "execute_request":
      return { type: message.type, content: await handleExecute(state, message, scope) };
    case "complete_request":
      return { type: message.type, content: await handleComplete(state, message) };
    case "inspect_request":
      return { type: message.type, content: await handleInspect(state, message) };
    case "is_complete_request":
      return { type: message.type, content: await handleIsComplete(state, message) };
    case "history_request":
      return { type: message.type, content: { status: "ok", history: state.history.query(readHistoryRequest(message.content)) } };
    case "comm_info_request":
      return { type: message.type, content: commInfo(state, message) };
    case "shutdown_request":
      return { type: message.type, content: { status: "ok", restart: message.content.restart === true } };
    case "interrupt_request":
      // Message-mode interrupt (spec: "Kernel interrupt"); the executor stops the running cell.
      state.executor.interrupt();
      return { type: message.type, content: { status: "ok" } };
    case "comm_open":
    case "comm_msg":
    case "comm_close":
      // Comm messages get no reply; their handlers may publish on iopub.
      await handleComm(state, message, scope);
      return undefined;
    case "input_reply":
      // Answers arrive on stdin and are matched to their input_request by the server.
      return undefined;
    case "unknown":
      return undefined;
    default: {
      const never: never = message;
      throw new Error(`unhandled message ${JSON.stringify(never)}`);
    }
  }
}
