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
  | { kind: "clear"; wait: boolean };

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
  /** Answers "close": the runtime is stopped, so ending the thread can't abort the process. */
  | { type: "closed" };
