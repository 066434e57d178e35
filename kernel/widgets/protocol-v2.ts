/**
 * Widget protocol 2, as JupyterLab's widget manager (@jupyter-widgets/jupyterlab-manager 5, the
 * frontend of ipywidgets 8) speaks it:
 * - a model is a comm to `jupyter.widget` opened with metadata `{ version: "2.1.0" }` and data
 *   `{ state, buffer_paths }`, the state naming its model and view (`@jupyter-widgets/controls`
 *   2.0.0); the frontend refuses a comm_open of another major version;
 * - both sides send `{ method: "update", state, buffer_paths }`; the frontend also sends
 *   `{ method: "request_state" }` and `{ method: "custom", content }` (a click);
 * - a view is the `application/vnd.jupyter.widget-view+json` display_data
 *   (`{ model_id, version_major: 2, version_minor: 0 }`) beside a text/plain for other frontends;
 * - on connecting, the frontend opens a `jupyter.widget.control` comm and asks
 *   `{ method: "request_states" }`; the kernel answers every live model's state at once
 *   (`update_states`), which is how a reloaded page gets its widgets back.
 * Selection controls sync the chosen option's `index`, not its label (a dropdown's `value` stays
 * the kernel's).
 */
import type { CommMessage } from "../cells/worker/comms.ts";
import type { ControlName, FrontendRequest, KernelState, WidgetProtocol } from "./protocol.ts";
import { CONTROL_NAMES, isObject, kernelKey, sharedRequest, toWire } from "./wire-keys.ts";

/** The protocol version the comm_open metadata carries. */
export const PROTOCOL_VERSION = "2.1.0";
/** The comm target the frontend opens to fetch every model's state at once. */
export const CONTROL_TARGET = "jupyter.widget.control";

const CONTROLS = "@jupyter-widgets/controls";
const VERSION = "2.0.0";

/** The names every model's full state carries (layout and style left to the frontend's defaults). */
function identity(control: ControlName): Record<string, unknown> {
  const [model, view] = CONTROL_NAMES[control];
  return {
    _model_name: model,
    _model_module: CONTROLS,
    _model_module_version: VERSION,
    _view_name: view,
    _view_module: CONTROLS,
    _view_module_version: VERSION,
    _dom_classes: [],
  };
}

/** The named keys of `state` as the frontend's model holds them. */
function wireState(control: ControlName, state: KernelState, keys: readonly string[]): Record<string, unknown> {
  if (control !== "Dropdown" || !(keys.includes("value") || keys.includes("options"))) return toWire(state, keys);
  // The frontend knows the choice by its index among the options (null: none): new options move
  // the kept choice's index too.
  const wire = toWire(state, keys.filter((k) => k !== "value"));
  const index = (state.options as string[]).indexOf(state.value as string);
  wire.index = index < 0 ? null : index;
  return wire;
}

/** A model's whole state as the frontend holds it: its names and every property. */
function wholeState(control: ControlName, state: KernelState): Record<string, unknown> {
  return { ...identity(control), ...wireState(control, state, Object.keys(state)) };
}

/** The frontend's edit in kernel keys (its bookkeeping, keys starting with "_", left out). */
function kernelState(control: ControlName, wire: Record<string, unknown>, state: KernelState): KernelState {
  const edit: KernelState = {};
  for (const [key, value] of Object.entries(wire)) {
    if (key.startsWith("_")) continue;
    if (control === "Dropdown" && key === "index") {
      const options = state.options as string[];
      edit.value = typeof value === "number" && Number.isInteger(value) && value >= 0 && value < options.length ? options[value] : "";
    } else edit[kernelKey(key)] = value;
  }
  return edit;
}

/** Puts binary buffers into `state` at their paths (`["value"]`, or deeper). */
function putBuffers(state: Record<string, unknown>, paths: unknown, buffers: Uint8Array[]): void {
  if (!Array.isArray(paths)) return;
  paths.forEach((path, i) => {
    if (!Array.isArray(path) || path.length === 0 || buffers[i] === undefined) return;
    let node: unknown = state;
    for (const step of path.slice(0, -1)) node = isObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[String(step)] : undefined;
    if (isObject(node) || Array.isArray(node)) (node as Record<string, unknown>)[String(path[path.length - 1])] = buffers[i];
  });
}

/** Protocol 2 (JupyterLab's @jupyter-widgets 8). */
export const protocolV2: WidgetProtocol = {
  version: PROTOCOL_VERSION,
  target: "jupyter.widget",
  open: (control, state) => ({
    data: { state: wholeState(control, state), buffer_paths: [] },
    metadata: { version: PROTOCOL_VERSION },
  }),
  update: (control, state, keys) => ({
    data: {
      method: "update",
      state: keys === "all" ? wholeState(control, state) : wireState(control, state, keys),
      buffer_paths: [],
    },
  }),
  parse(control: ControlName, message: CommMessage, state: KernelState): FrontendRequest {
    const data: unknown = message.data;
    if (!isObject(data)) return { kind: "unknown", why: "its data is not an object" };
    switch (data.method) {
      case "update": {
        if (!isObject(data.state)) return { kind: "unknown", why: "update without state" };
        const wire = { ...data.state };
        putBuffers(wire, data.buffer_paths, message.buffers);
        return { kind: "state", state: kernelState(control, wire, state) };
      }
      default:
        return sharedRequest(data, message);
    }
  },
  displayMessage: () => undefined,
  viewBundle: (modelId, text) => ({
    "application/vnd.jupyter.widget-view+json": { model_id: modelId, version_major: 2, version_minor: 0 },
    // What a frontend without the widget manager shows, now or when the notebook is opened later;
    // JupyterLab prefers the widget's view.
    "text/plain": text,
  }),
  modelEntry(control, state) {
    const whole = wholeState(control, state);
    return { model_name: whole._model_name, model_module: CONTROLS, model_module_version: VERSION, state: whole };
  },
};

