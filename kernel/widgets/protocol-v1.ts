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
import type { ControlName, FrontendRequest, KernelState, WidgetProtocol } from "./protocol.ts";
import { CONTROL_NAMES, isObject, kernelKey, sharedRequest, toWire } from "./wire-keys.ts";
import type { CommMessage } from "../cells/worker/comms.ts";

const MODULE = "jupyter-js-widgets";
/** The frontend versions the models below are written for (jupyter-js-widgets 2.1.x). */
const MODULE_VERSION = "~2.1.4";

/** The comm target the classic Notebook's extension opens on connecting, to compare versions. */
export const VERSION_TARGET = "jupyter.widget.version";

/** The kernel's first message on the version comm: the frontend versions it accepts. */
export const versionMessage = (): Record<string, unknown> => ({ version: MODULE_VERSION });

/** The names and bookkeeping every model's full state carries. */
function identity(control: ControlName): Record<string, unknown> {
  const [model, view] = CONTROL_NAMES[control];
  return {
    // jupyter-js-widgets 2.1 has one progress model for both kinds.
    _model_name: model.endsWith("ProgressModel") ? "ProgressModel" : model,
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

/** Protocol 1 (the classic Notebook's jupyter-js-widgets 2.1). */
export const protocolV1: WidgetProtocol = {
  version: "1",
  target: "jupyter.widget",
  open(control, state) {
    const whole = { ...identity(control), ...toWire(state) };
    // The same again under `state`, the one shape Jupyter's headless executor (nbclient, under
    // nbconvert) reads: it fails on a widget comm_open without it. The extension ignores it.
    return { data: { ...whole, state: whole } };
  },
  update: (control, state, keys) => ({
    data: { method: "update", state: keys === "all" ? { ...identity(control), ...toWire(state) } : toWire(state, keys), buffers: [] },
  }),
  parse(_control: ControlName, message: CommMessage): FrontendRequest {
    const data: unknown = message.data;
    if (!isObject(data)) return { kind: "unknown", why: "its data is not an object" };
    switch (data.method) {
      case "backbone": {
        if (!isObject(data.sync_data)) return { kind: "unknown", why: "backbone without sync_data" };
        const state: KernelState = {};
        // Keys starting with "_" are the model's own bookkeeping, never a user's edit.
        for (const [key, value] of Object.entries(data.sync_data)) if (!key.startsWith("_")) state[kernelKey(key)] = value;
        const keys = Array.isArray(data.buffer_keys) ? data.buffer_keys : [];
        keys.forEach((key, i) => {
          if (typeof key === "string" && !key.startsWith("_") && message.buffers[i]) state[kernelKey(key)] = message.buffers[i];
        });
        return { kind: "state", state };
      }
      default:
        return sharedRequest(data, message);
    }
  },
  displayMessage: () => ({ data: { method: "display" } }),
  viewBundle: (modelId, text, frontendPresent) => ({
    "application/vnd.jupyter.widget-view+json": { model_id: modelId },
    // The extension shows the view by the display message; a text/plain beside it would be shown too.
    "text/plain": frontendPresent ? null : text,
  }),
  modelEntry(control, state) {
    const whole = { ...identity(control), ...toWire(state) };
    return { model_name: whole._model_name, model_module: MODULE, model_module_version: MODULE_VERSION, state: whole };
  },
};
