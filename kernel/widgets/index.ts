/**
 * The `widgets` global of every cell: factories of the controls (`widgets.IntSlider({ max: 10 })`)
 * and what is known of the frontend. A frontend that renders widgets says so by opening the
 * protocol's version comm when it connects (the classic Notebook's extension does); until one
 * has, displays fall back to text (nbconvert, a terminal runner).
 */
import type { CellComms } from "../cells/worker/comms.ts";
import { protocolV1 } from "./protocol-v1.ts";
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
  /** The version of its widget library, once it said (jupyter-js-widgets "2.1.4"). */
  readonly version: string | undefined;
  /** Whether it accepted the kernel's version range (undefined until it answered). */
  readonly compatible: boolean | undefined;
  /** The widget protocol the kernel speaks. */
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

/** Builds the `widgets` global and starts answering the frontend's version comm. */
export function createWidgets(io: WidgetIo, protocol: WidgetProtocol = protocolV1): Widgets {
  const frontend = { present: false, version: undefined as string | undefined, compatible: undefined as boolean | undefined, protocol: protocol.version };
  if (protocol.versionTarget) {
    io.comms.register(protocol.versionTarget, (comm) => {
      frontend.present = true;
      comm.onMsg((message) => {
        const data = message.data as { validated?: unknown; frontend_version?: unknown } | null;
        if (typeof data?.validated === "boolean") frontend.compatible = data.validated;
        if (typeof data?.frontend_version === "string") frontend.version = data.frontend_version;
        if (frontend.compatible === false) io.log(`the frontend's widgets (${frontend.version ?? "unknown version"}) don't accept ${JSON.stringify(protocol.versionMessage())}`);
      });
      comm.send(protocol.versionMessage());
    });
  }
  const ctx: WidgetContext = { comms: io.comms, protocol, frontendPresent: () => frontend.present, failed: io.failed, log: io.log };
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
