/**
 * What a widget protocol version decides, so the widget library (widget.ts, controls.ts) speaks
 * any of them: model and view names, how state travels in comm messages, how a view is shown, and
 * the version handshake. protocol-v1.ts is the classic Notebook's (jupyter-js-widgets 2.1),
 * protocol-v2.ts JupyterLab's (@jupyter-widgets 8); the kernel speaks whichever the frontend
 * announced (index.ts).
 */
import type { CommMessage } from "../cells/worker/comms.ts";

/** The controls this library offers; each protocol names their models and views. */
export type ControlName =
  | "IntSlider" | "FloatSlider" | "IntProgress" | "FloatProgress" | "Button" | "Checkbox"
  | "Dropdown" | "Text" | "HTML" | "Label" | "HBox" | "VBox";

/** A widget's state as the kernel keeps it: camelCase keys, JSON values, children as widget ids. */
export type KernelState = Record<string, unknown>;

/** What the frontend asked of a widget in one comm message. */
export type FrontendRequest =
  /** New values for some of the state (a user moved a slider); `state` in kernel keys. */
  | { kind: "state"; state: KernelState }
  /** The frontend (re)builds its model and wants the whole state (after a page reload). */
  | { kind: "request-state" }
  /** A widget-specific event (`{ event: "click" }` from a button). */
  | { kind: "custom"; content: Record<string, unknown>; buffers: Uint8Array[] }
  /** Anything else: logged and ignored. */
  | { kind: "unknown"; why: string };

/** A comm message to send: its data and binary buffers. */
export interface Outgoing {
  data: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  buffers?: Uint8Array[];
}

/** One widget protocol version. */
export interface WidgetProtocol {
  /** The protocol version (the spec's numbering). */
  readonly version: string;
  /** The comm target widget models open. */
  readonly target: string;
  /** The comm_open of a new model with its whole state. */
  open(control: ControlName, state: KernelState): Outgoing;
  /** A state update to the frontend: the named keys of `state`, or all of it (with the model's names, after request_state). */
  update(control: ControlName, state: KernelState, keys: readonly string[] | "all"): Outgoing;
  /** Reads a frontend's comm message to a widget whose state is `state`. */
  parse(control: ControlName, message: CommMessage, state: KernelState): FrontendRequest;
  /** The comm message that shows a view where the cell's output goes, if this protocol sends one. */
  displayMessage(): Outgoing | undefined;
  /** The display_data bundle of a view; `text` is the fallback for frontends without widgets. */
  viewBundle(modelId: string, text: string, frontendPresent: boolean): Record<string, unknown>;
  /** One model's whole state as a frontend fetching every model at once wants it (protocol 2's control comm). */
  modelEntry(control: ControlName, state: KernelState): Record<string, unknown>;
}
