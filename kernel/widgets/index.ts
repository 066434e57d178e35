/**
 * The `widgets` global of every cell: factories of the controls (`widgets.IntSlider({ max: 10 })`)
 * and what is known of the frontend. A frontend that renders widgets says so when it connects, and
 * which protocol it speaks: the classic Notebook's extension (ipywidgets 6) opens a version comm,
 * JupyterLab's widget manager (ipywidgets 8) a control comm. Widgets made after that speak its
 * protocol; until one has, displays fall back to text (nbconvert, a terminal runner).
 */
import type { CellComms } from "../cells/worker/comms.ts";
import { protocolV1, VERSION_TARGET, versionMessage } from "./protocol-v1.ts";
import { CONTROL_TARGET, protocolV2 } from "./protocol-v2.ts";
import type { WidgetProtocol } from "./protocol.ts";
import type { Widget, WidgetContext } from "./widget.ts";
import {
  Button, Checkbox, Dropdown, FloatProgress, FloatSlider, HBox, HTML, IntProgress, IntSlider, Label, Text, VBox,
  type ButtonOptions, type CheckboxOptions, type DropdownOptions, type ProgressOptions, type ShownTextOptions, type SliderOptions, type TextOptions,
} from "./controls.ts";

export type { Change, Observer, Widget } from "./widget.ts";
export type { Box, Button, Checkbox, Dropdown, FloatProgress, FloatSlider, HBox, HTML, IntProgress, IntSlider, Label, Text, ValueWidget, VBox } from "./controls.ts";

/** What the kernel knows of the frontend's widget support. */
export interface WidgetFrontend {
  /** Whether a frontend that renders widgets has connected. */
  readonly present: boolean;
  /** The version of its widget library, if it said (the classic Notebook's: jupyter-js-widgets "2.1.4"). */
  readonly version: string | undefined;
  /** Whether it accepted the kernel's version range (undefined until it answered; JupyterLab's never does). */
  readonly compatible: boolean | undefined;
  /** The widget protocol the kernel speaks to it ("1", or "2.1.0" once JupyterLab's manager connected). */
  readonly protocol: string;
}

/** The `widgets` global. */
export interface Widgets {
  /** An integer slider: `widgets.IntSlider({ min: 0, max: 10, value: 3, description: "n" })`. */
  IntSlider(options?: Partial<SliderOptions>): IntSlider;
  /** A slider over real numbers. */
  FloatSlider(options?: Partial<SliderOptions>): FloatSlider;
  /** A progress bar counting in integers. */
  IntProgress(options?: Partial<ProgressOptions>): IntProgress;
  /** A progress bar over real numbers. */
  FloatProgress(options?: Partial<ProgressOptions>): FloatProgress;
  /** A button: `widgets.Button({ description: "stop" }).onClick(() => …)`. */
  Button(options?: Partial<ButtonOptions>): Button;
  /** A checkbox. */
  Checkbox(options?: Partial<CheckboxOptions>): Checkbox;
  /** A dropdown: `widgets.Dropdown({ options: ["a", "b"], value: "b" })`. */
  Dropdown(options?: Partial<DropdownOptions>): Dropdown;
  /** A one-line text field. */
  Text(options?: Partial<TextOptions>): Text;
  /** HTML, updated by setting `value`. */
  HTML(options?: Partial<ShownTextOptions>): HTML;
  /** A line of text, updated by setting `value`. */
  Label(options?: Partial<ShownTextOptions>): Label;
  /** Widgets side by side. */
  HBox(children?: Widget[]): HBox;
  /** Widgets stacked. */
  VBox(children?: Widget[]): VBox;
  /** What is known of the frontend's widget support. */
  readonly frontend: WidgetFrontend;
}

/** How widgets reach the cell thread's comms and report trouble. */
export interface WidgetIo {
  comms: CellComms;
  failed(error: unknown, what: string): void;
  log(text: string): void;
}

/** Builds the `widgets` global and starts answering the frontends' version and control comms. */
export function createWidgets(io: WidgetIo): Widgets {
  // Until a frontend announces itself, protocol 2: what JupyterLab and nbclient (nbconvert) read.
  let protocol: WidgetProtocol = protocolV2;
  const frontend = { present: false, version: undefined as string | undefined, compatible: undefined as boolean | undefined, protocol: protocol.version };
  const live = new Map<string, Widget>();
  io.comms.register(VERSION_TARGET, (comm) => {
    frontend.present = true;
    protocol = protocolV1;
    frontend.protocol = protocol.version;
    comm.onMsg((message) => {
      const data = message.data as { validated?: unknown; frontend_version?: unknown } | null;
      if (typeof data?.validated === "boolean") frontend.compatible = data.validated;
      if (typeof data?.frontend_version === "string") frontend.version = data.frontend_version;
      if (frontend.compatible === false) io.log(`the frontend's widgets (${frontend.version ?? "unknown version"}) don't accept ${JSON.stringify(versionMessage())}`);
    });
    comm.send(versionMessage());
  });
  io.comms.register(CONTROL_TARGET, (comm) => {
    frontend.present = true;
    protocol = protocolV2;
    frontend.protocol = protocol.version;
    comm.onMsg((message) => {
      const method = (message.data as { method?: unknown } | null)?.method;
      if (method !== "request_states") return io.log(`the widget control comm ignored ${JSON.stringify(method)}`);
      // Only models of the protocol this frontend speaks: it could not build the others.
      const states: Record<string, unknown> = {};
      for (const [id, widget] of live) if (widget.protocol === protocolV2) states[id] = widget.modelEntry();
      comm.send({ method: "update_states", states, buffer_paths: [] });
    });
  });
  const ctx: WidgetContext = { comms: io.comms, protocol: () => protocol, frontendPresent: () => frontend.present, live, failed: io.failed, log: io.log };
  const widgets: Widgets = {
    IntSlider: (options) => new IntSlider(ctx, options),
    FloatSlider: (options) => new FloatSlider(ctx, options),
    IntProgress: (options) => new IntProgress(ctx, options),
    FloatProgress: (options) => new FloatProgress(ctx, options),
    Button: (options) => new Button(ctx, options),
    Checkbox: (options) => new Checkbox(ctx, options),
    Dropdown: (options) => new Dropdown(ctx, options),
    Text: (options) => new Text(ctx, options),
    HTML: (options) => new HTML(ctx, options),
    Label: (options) => new Label(ctx, options),
    HBox: (children) => new HBox(ctx, children),
    VBox: (children) => new VBox(ctx, children),
    frontend,
  };
  return widgets;
}
