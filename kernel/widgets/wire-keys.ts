/**
 * How widget state is spelled on the wire in every protocol version: snake_case keys (the
 * kernel's are camelCase), a dropdown's options as `_options_labels`, children as
 * "IPY_MODEL_<id>" references.
 */
import type { CommMessage } from "../cells/worker/comms.ts";
import type { ControlName, FrontendRequest, KernelState } from "./protocol.ts";

const REFERENCE = "IPY_MODEL_";

/** Kernel keys whose wire name isn't their snake_case spelling. */
const RENAMED: Record<string, string> = { options: "_options_labels" };
const UNRENAMED: Record<string, string> = Object.fromEntries(Object.entries(RENAMED).map(([k, v]) => [v, k]));

/** The wire name of a kernel key. */
export const wireKey = (key: string): string => RENAMED[key] ?? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The kernel name of a wire key. */
export const kernelKey = (key: string): string => UNRENAMED[key] ?? key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** `keys` of the kernel's state (all when absent) in wire form: snake_case keys, children as references. */
export function toWire(state: KernelState, keys: readonly string[] = Object.keys(state)): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  for (const key of keys) {
    if (!(key in state)) continue;
    const value = state[key];
    wire[wireKey(key)] = key === "children" && Array.isArray(value) ? value.map((id) => `${REFERENCE}${String(id)}`) : value;
  }
  return wire;
}

/** Whether `x` is a plain JSON object. */
export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** Model and view names of each control (protocol 1 names both progress models "ProgressModel"). */
export const CONTROL_NAMES: Readonly<Record<ControlName, readonly [model: string, view: string]>> = {
  IntSlider: ["IntSliderModel", "IntSliderView"],
  FloatSlider: ["FloatSliderModel", "FloatSliderView"],
  IntProgress: ["IntProgressModel", "ProgressView"],
  FloatProgress: ["FloatProgressModel", "ProgressView"],
  Button: ["ButtonModel", "ButtonView"],
  Checkbox: ["CheckboxModel", "CheckboxView"],
  Dropdown: ["DropdownModel", "DropdownView"],
  Text: ["TextModel", "TextView"],
  HTML: ["HTMLModel", "HTMLView"],
  Label: ["LabelModel", "LabelView"],
  HBox: ["HBoxModel", "HBoxView"],
  VBox: ["VBoxModel", "VBoxView"],
};

/** A frontend's message that means the same in every protocol: a request for the whole state, a widget's event, or one not understood. */
export function sharedRequest(data: Record<string, unknown>, message: CommMessage): FrontendRequest {
  switch (data.method) {
    case "request_state":
      return { kind: "request-state" };
    case "custom":
      return isObject(data.content) ? { kind: "custom", content: data.content, buffers: message.buffers } : { kind: "unknown", why: "custom without content" };
    default:
      return { kind: "unknown", why: `method ${JSON.stringify(data.method)}` };
  }
}
