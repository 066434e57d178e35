// The Jupyter messaging protocol, version 5.3 — the one catalogue of message types this kernel
// reads and writes. https://jupyter-client.readthedocs.io/en/stable/messaging.html
// A decoded message is tagged by `type` (a copy of header.msg_type) so handlers can use an
// exhaustive switch; unknown request types decode to `type: "unknown"`.

/** Protocol version announced in every header and in kernel_info_reply. */
export const PROTOCOL_VERSION = "5.3";

/** Message header (spec: "General message format"). */
export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

/** A mime bundle: mime type → data (application/json data is an object, never a string). */
export type MimeBundle = Record<string, unknown>;

// ---- shell and control requests (spec: "Messages on the shell (ROUTER/DEALER) channel") ----

/** Content of the requests this kernel understands, keyed by msg_type. */
export interface RequestContent {
  kernel_info_request: Record<string, never>;
  execute_request: {
    code: string;
    silent?: boolean;
    store_history?: boolean;
    user_expressions?: Record<string, string>;
    allow_stdin?: boolean;
    stop_on_error?: boolean;
  };
  complete_request: { code: string; cursor_pos?: number };
  inspect_request: { code: string; cursor_pos?: number; detail_level?: number };
  is_complete_request: { code: string };
  history_request: {
    output?: boolean;
    raw?: boolean;
    hist_access_type: "range" | "tail" | "search";
    session?: number;
    start?: number;
    stop?: number;
    n?: number;
    pattern?: string;
    unique?: boolean;
  };
  comm_info_request: { target_name?: string };
  shutdown_request: { restart?: boolean };
  interrupt_request: Record<string, never>;
  // Comm messages travel on shell from the frontend; they get no reply (spec: "Custom Messages").
  // Binary data rides in the message's buffers, JSON metadata in its metadata.
  comm_open: { comm_id: string; target_name: string; data?: unknown; target_module?: string };
  comm_msg: { comm_id: string; data?: unknown };
  comm_close: { comm_id: string; data?: unknown };
  // stdin replies from the frontend (spec: "Messages on the stdin ROUTER/DEALER channel").
  input_reply: { value: string };
}

/** A msg_type this kernel understands. */
export type KnownType = keyof RequestContent;

/** Fields every decoded message carries, whatever its type. */
interface Envelope {
  /** ZeroMQ routing identities that preceded the `<IDS|MSG>` delimiter. */
  identities: Buffer[];
  header: Header;
  parent_header: Partial<Header>;
  metadata: Record<string, unknown>;
  buffers: Buffer[];
}

/** A decoded incoming message, discriminated by `type`. */
export type Incoming =
  | { [K in KnownType]: Envelope & { type: K; content: RequestContent[K] } }[KnownType]
  | (Envelope & { type: "unknown"; content: Record<string, unknown> });

/** The incoming message of one known type. */
export type IncomingOf<K extends KnownType> = Extract<Incoming, { type: K }>;

/** Request types whose answer is a `<name>_reply` (comm messages and input_reply have none). */
export type RequestType = Extract<KnownType, `${string}_request`>;

/** The reply msg_type of a request type: `execute_request` → `execute_reply`. */
export type ReplyType<R extends string> = R extends `${infer Base}_request` ? `${Base}_reply` : never;

/** Every reply carries a status (clients check it first); error and abort replies share these shapes. */
export type ErrorReply = { status: "error"; ename: string; evalue: string; traceback: string[] };
/** An execute that was not run because an earlier one failed with stop_on_error. */
export type AbortReply = { status: "abort" };

/** Content of each reply, keyed by the request it answers. */
export interface ReplyContent {
  kernel_info_request: {
    status: "ok";
    protocol_version: string;
    implementation: string;
    implementation_version: string;
    language_info: {
      name: string;
      version: string;
      mimetype: string;
      file_extension: string;
      pygments_lexer: string;
      codemirror_mode: string | Record<string, unknown>;
      nbconvert_exporter: string;
    };
    banner: string;
    help_links: { text: string; url: string }[];
    debugger: boolean;
  };
  execute_request:
    | { status: "ok"; execution_count: number; payload: Record<string, unknown>[]; user_expressions: Record<string, unknown> }
    | (ErrorReply & { execution_count: number; payload?: unknown[]; user_expressions?: Record<string, unknown> })
    | (AbortReply & { execution_count?: number });
  complete_request:
    | { status: "ok"; matches: string[]; cursor_start: number; cursor_end: number; metadata: Record<string, unknown> }
    | ErrorReply;
  inspect_request: { status: "ok"; found: boolean; data: MimeBundle; metadata: Record<string, unknown> } | ErrorReply;
  is_complete_request: { status: "complete" | "incomplete" | "invalid" | "unknown"; indent?: string };
  history_request: { status: "ok"; history: [number, number, string | [string, string | null]][] } | ErrorReply;
  comm_info_request: { status: "ok"; comms: Record<string, { target_name: string }> };
  shutdown_request: { status: "ok"; restart: boolean };
  interrupt_request: { status: "ok" } | ErrorReply;
}

// ---- iopub (spec: "Messages on the IOPub (PUB/SUB) channel") ----

/** Content of each message the kernel publishes on iopub, keyed by msg_type. */
export interface IopubContent {
  status: { execution_state: "starting" | "busy" | "idle" };
  execute_input: { code: string; execution_count: number };
  stream: { name: "stdout" | "stderr"; text: string };
  display_data: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } };
  update_display_data: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } };
  execute_result: { execution_count: number; data: MimeBundle; metadata: Record<string, unknown> };
  error: { ename: string; evalue: string; traceback: string[] };
  clear_output: { wait: boolean };
  // Comms (spec: "Custom Messages"): opened, used and closed by the kernel, or closing one the
  // frontend opened to a target nobody registered.
  comm_open: { comm_id: string; target_name: string; data: unknown };
  comm_msg: { comm_id: string; data: unknown };
  comm_close: { comm_id: string; data: unknown };
  // Since 5.4 the kernel also broadcasts its shutdown_reply; harmless for older frontends.
  shutdown_reply: { status: "ok"; restart: boolean };
}

/** A msg_type the kernel publishes on iopub. */
export type IopubType = keyof IopubContent;

/** What an iopub message may carry besides content: the message metadata and binary buffers (comms). */
export interface IopubExtra {
  metadata?: Record<string, unknown>;
  buffers?: Buffer[];
}

/** Content of the kernel's input_request on stdin. */
export type InputRequestContent = { prompt: string; password: boolean };

/** A message ready for encoding: the four JSON parts plus routing and buffers. */
export interface Outgoing {
  identities: Buffer[];
  header: Header;
  parent_header: Partial<Header>;
  metadata: Record<string, unknown>;
  content: unknown;
  buffers?: Buffer[];
}

const KNOWN: ReadonlySet<string> = new Set<KnownType>([
  "kernel_info_request",
  "execute_request",
  "complete_request",
  "inspect_request",
  "is_complete_request",
  "history_request",
  "comm_info_request",
  "shutdown_request",
  "interrupt_request",
  "comm_open",
  "comm_msg",
  "comm_close",
  "input_reply",
]);

/** Whether a msg_type is one this kernel understands. */
export function isKnownType(msgType: string): msgType is KnownType {
  return KNOWN.has(msgType);
}
