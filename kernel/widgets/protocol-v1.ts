/**
 * Widget protocol 1, as the classic Notebook's widgets extension (jupyter-js-widgets 2.1, shipped
 * with ipywidgets 6) speaks it:
 * - a model is a comm to `jupyter.widget` whose open data is the whole state, names included
 *   (`_model_name`, `_model_module: "jupyter-js-widgets"`, …), also under `state` for nbclient;
 * - the kernel sends `{ method: "update", state, buffers: [keys] }`; the frontend sends
 *   `{ method: "backbone", sync_data, buffer_keys }`, `{ method: "request_state" }` (it rebuilds its
 *   models after a page reload, from comm_info) and `{ method: "custom", content }` (a click);
 * - a view is shown by `{ method: "display" }` on the model's comm, under the message whose output
 *   area it joins; the `application/vnd.jupyter.widget-view+json` display_data that follows is what
 *   a saved notebook keeps (the extension renders no mime type itself);
 * - on connecting, the frontend opens a `jupyter.widget.version` comm; the kernel answers with the
 *   semver range it wants (`{ version }`), the frontend with `{ validated, frontend_version }`.
 * Wire keys are snake_case, the kernel's camelCase; children travel as "IPY_MODEL_<id>".
 */
import type { ControlName, FrontendRequest, KernelState, Outgoing, WidgetProtocol } from "./protocol.ts";
import type { CommMessage } from "../cells/worker/comms.ts";

const MODULE = "jupyter-js-widgets";
/** The frontend versions the models below are written for (jupyter-js-widgets 2.1.x). */
const MODULE_VERSION = "~2.1.4";
const REFERENCE = "IPY_MODEL_";

/** Model and view names of each control in jupyter-js-widgets 2.1. */
const NAMES: Record<ControlName, [model: string, view: string]> = {
  IntSlider: ["IntSliderModel", "IntSliderView"],
  FloatSlider: ["FloatSliderModel", "FloatSliderView"],
  IntProgress: ["ProgressModel", "ProgressView"],
  FloatProgress: ["ProgressModel", "ProgressView"],
  Button: ["ButtonModel", "ButtonView"],
  Checkbox: ["CheckboxModel", "CheckboxView"],
  Dropdown: ["DropdownModel", "DropdownView"],
  Text: ["TextModel", "TextView"],
  HTML: ["HTMLModel", "HTMLView"],
  Label: ["LabelModel", "LabelView"],
  HBox: ["HBoxModel", "HBoxView"],
  VBox: ["VBoxModel", "VBoxView"],
};

/** Kernel keys whose wire name isn't their snake_case spelling. */
const RENAMED: Record<string, string> = { options: "_options_labels" };

const snake = (key: string): string => RENAMED[key] ?? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (key: string): string => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The kernel's state in wire form: snake_case keys, children as references. */
function toWire(state: KernelState): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(state)) {
    wire[snake(key)] = key === "children" && Array.isArray(value) ? value.map((id) => `${REFERENCE}${String(id)}`) : value;
  }
  return wire;
}

/** The names and bookkeeping every model's full state carries. */
function identity(control: ControlName): Record<string, unknown> {
  const [model, view] = NAMES[control];
  return {
    _model_name: model,
    _model_module: MODULE,
    _model_module_version: MODULE_VERSION,
    _view_name: view,
    _view_module: MODULE,
    _view_module_version: MODULE_VERSION,
    // The frontend sends at most this many updates before the kernel's idle for them; more wait.
    msg_throttle: 1,
    _dom_classes: [],
  };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** Protocol 1 (the classic Notebook's jupyter-js-widgets 2.1). */
export const protocolV1: WidgetProtocol = {
  version: "1",
  target: "jupyter.widget",
  versionTarget: "jupyter.widget.version",
  versionMessage: () => ({ version: MODULE_VERSION }),
  open(control, state) {
    const whole = { ...identity(control), ...toWire(state) };
    // The same again under `state`, the one shape Jupyter's headless executor (nbclient, under
    // nbconvert) reads: it fails on a widget comm_open without it. The extension ignores it.
    return { data: { ...whole, state: whole } };
  },
  update: (control, state, whole) => ({
    data: { method: "update", state: { ...(whole ? identity(control) : {}), ...toWire(state) }, buffers: [] },
  }),
  parse(_control: ControlName, message: CommMessage): FrontendRequest {
    const data: unknown = message.data;
    if (!isObject(data)) return { kind: "unknown", why: "its data is not an object" };
    switch (data.method) {
      case "backbone": {
        if (!isObject(data.sync_data)) return { kind: "unknown", why: "backbone without sync_data" };
        const state: KernelState = {};
        // Keys starting with "_" are the model's own bookkeeping, never a user's edit.
        for (const [key, value] of Object.entries(data.sync_data)) if (!key.startsWith("_")) state[camel(key)] = value;
        const keys = Array.isArray(data.buffer_keys) ? data.buffer_keys : [];
        keys.forEach((key, i) => {
          if (typeof key === "string" && !key.startsWith("_") && message.buffers[i]) state[camel(key)] = message.buffers[i];
        });
        return { kind: "state", state };
      }
      case "request_state":
        return { kind: "request-state" };
      case "custom":
        return isObject(data.content) ? { kind: "custom", content: data.content, buffers: message.buffers } : { kind: "unknown", why: "custom without content" };
      default:
        return { kind: "unknown", why: `method ${JSON.stringify(data.method)}` };
    }
  },
  displayMessage: () => ({ data: { method: "display" } }),
  viewBundle: (modelId, text) => ({
    "application/vnd.jupyter.widget-view+json": { model_id: modelId },
    // The extension shows the view by the display message; a text/plain beside it would be shown too.
    "text/plain": text,
  }),
};
