/** Messages between the kernel's main thread and the cell executor worker: one union per direction. */

/** One piece of output of a cell, in the kernel's vocabulary (mapped to iopub messages by the protocol layer). */
export type CellOutput =
  | { kind: "stream"; name: "stdout" | "stderr"; text: string }
  | {
      kind: "display";
      data: Record<string, unknown>;
      metadata: Record<string, unknown>;
      transient: { display_id?: string };
      update: boolean;
    }
  | { kind: "clear"; wait: boolean }
  /** A comm message a cell sends (comms.open, comm.send, comm.close): published on iopub under the cell. */
  | { kind: "comm"; message: CommWire };

/**
 * A comm message as it crosses threads (Jupyter spec: "Custom Messages"): its msg_type, content
 * (`comm_id`, `data`, and `target_name` on opens), the message's metadata, and binary buffers.
 */
export interface CommWire {
  type: "comm_open" | "comm_msg" | "comm_close";
  content: { comm_id: string; target_name?: string; data: unknown };
  metadata: Record<string, unknown>;
  buffers: Uint8Array[];
}

/**
 * What became of a frontend's comm message in the executor: `handled` (`open`: whether the comm
 * is still open afterwards: a handler may close it, an open handler that throws does),
 * `unknown-target` (a comm_open nobody registered), `unknown-comm` (no such comm here), `gone`
 * (the executor stopped).
 */
export type CommOutcome =
  | { kind: "handled"; open: boolean }
  | { kind: "unknown-target" }
  | { kind: "unknown-comm" }
  | { kind: "gone" };

/** A mime bundle as Jupyter carries it: `data` keyed by mime type, plus `metadata`. */
export interface MimeBundle {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** How a cell ended: its value's bundle (absent for `undefined`), or the error it raised. */
export type CellResult =
  | { status: "ok"; value?: MimeBundle }
  | { status: "error"; ename: string; evalue: string; traceback: string[] };

/** A cell asking the user for a line of text (`input()` / `password()`). */
export interface InputRequest {
  prompt: string;
  password: boolean;
}

/** Result of a completion request; cursor positions in code points (Jupyter's unit). */
export interface CompleteResult {
  matches: string[];
  cursor_start: number;
  cursor_end: number;
  metadata: Record<string, unknown>;
}

/** Result of an inspection request. */
export interface InspectResult {
  found: boolean;
  data: Record<string, unknown>;
}

/** Main thread → executor worker. `id` pairs a request with its reply. */
export type ToWorker =
  | { type: "execute"; id: number; code: string; cellName: string }
  | { type: "input-reply"; id: number; value: string; error?: string }
  | { type: "interrupt"; id: number }
  | { type: "property-names"; id: number; expression: string }
  /** A frontend's comm message for the cells' handlers; `origin` is echoed with what the handlers send. */
  | { type: "comm"; id: number; message: CommWire; origin: unknown }
  | { type: "close" };

/**
 * Executor worker → main thread. Outputs of cell `id` always precede its `result`. `interrupting`:
 * the worker took the interrupt of cell `id` (nothing more to stop; its result follows once the
 * PEs have been checked).
 */
export type FromWorker =
  | { type: "ready" }
  | { type: "output"; id: number | null; output: CellOutput }
  | { type: "input-request"; id: number; cellId: number; request: InputRequest }
  | { type: "interrupting"; id: number }
  | { type: "result"; id: number; result: CellResult }
  | { type: "property-names"; id: number; names: string[] }
  /** Comm delivery `id` was handled (the handler's synchronous part ran). */
  | { type: "comm-handled"; id: number; outcome: CommOutcome }
  /** A comm message sent by a comm handler (or what it started), under the message that ran the handler. */
  | { type: "comm-output"; origin: unknown; message: CommWire }
  /** A comm handler failed while no cell ran to show it: for the kernel's log. */
  | { type: "comm-error"; text: string }
  /** Answers "close": the runtime is stopped, so ending the thread can't abort the process. */
  | { type: "closed" };
