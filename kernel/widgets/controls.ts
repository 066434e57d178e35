/**
 * The controls a cell can make: sliders, progress bars, a button, a checkbox, a dropdown, text,
 * HTML and labels, and boxes that lay others out. Each is a `Widget` with typed properties (an
 * interface merged with the class, read and written through accessors) and the rules that check
 * them, whoever sets them.
 */
import { Widget, type Coerce, type ControlSpec, type WidgetContext } from "./widget.ts";
import type { ControlName, KernelState } from "./protocol.ts";

// --- Rules -----------------------------------------------------------------------------------

const fail = (name: string, wanted: string, value: unknown): never => {
  throw new TypeError(`${name} must be ${wanted}, not ${typeof value === "string" ? JSON.stringify(value) : String(value)}`);
};
const finite = (integer: boolean): Coerce => (value, _state, name) => {
  if (typeof value !== "number" || !Number.isFinite(value)) return fail(name, integer ? "an integer" : "a finite number", value);
  return integer ? Math.round(value) : value;
};
/** A number kept within the state's min and max (as ipywidgets clamps). */
const bounded = (integer: boolean): Coerce => (value, state, name) => {
  const v = finite(integer)(value, state, name) as number;
  return Math.min(Number(state.max), Math.max(Number(state.min), v));
};
/** A bound that must leave room: min ≤ max. */
const bound = (integer: boolean, side: "min" | "max"): Coerce => (value, state, name) => {
  const v = finite(integer)(value, state, name) as number;
  const other = Number(state[side === "min" ? "max" : "min"]);
  if (side === "min" ? v > other : v < other) fail(name, `${side === "min" ? "at most max" : "at least min"} (${other})`, v);
  return v;
};
const positive: Coerce = (value, state, name) => ((finite(false)(value, state, name) as number) > 0 ? value : fail(name, "a positive number", value));
const bool: Coerce = (value, _state, name) => (typeof value === "boolean" ? value : fail(name, "true or false", value));
const text: Coerce = (value, _state, name) => (typeof value === "string" ? value : fail(name, "a string", value));
const oneOf = (...allowed: string[]): Coerce => (value, _state, name) =>
  allowed.includes(value as string) ? value : fail(name, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`, value);
const labels: Coerce = (value, _state, name) =>
  Array.isArray(value) && value.every((v) => typeof v === "string") ? [...value] : fail(name, "an array of strings", value);
/** A dropdown's value: one of its options (the first when unset or when the options change under it). */
const choice: Coerce = (value, state, name) => {
  const options = state.options as string[];
  if (options.includes(value as string)) return value;
  if (value === "" || value === null || value === undefined) return options[0] ?? "";
  return fail(name, `one of the options (${options.map((o) => JSON.stringify(o)).join(", ")})`, value);
};

const described = { description: "", disabled: false };
const describedRules = { description: text, disabled: bool };
const ORIENTATION = oneOf("horizontal", "vertical");
const STYLES = ["", "primary", "success", "info", "warning", "danger"];

function slider(control: ControlName, integer: boolean): ControlSpec {
  return {
    control,
    defaults: { value: 0, min: 0, max: 100, step: integer ? 1 : 0.1, ...described, continuousUpdate: true, readout: true, orientation: "horizontal" },
    editable: ["value"],
    coerce: { value: bounded(integer), min: bound(integer, "min"), max: bound(integer, "max"), step: positive, ...describedRules, continuousUpdate: bool, readout: bool, orientation: ORIENTATION },
  };
}
function progressBar(control: ControlName, integer: boolean): ControlSpec {
  return {
    control,
    defaults: { value: 0, min: 0, max: 100, description: "", barStyle: "", orientation: "horizontal" },
    editable: [],
    coerce: { value: bounded(integer), min: bound(integer, "min"), max: bound(integer, "max"), description: text, barStyle: oneOf(...STYLES.filter((s) => s !== "primary")), orientation: ORIENTATION },
  };
}
function textual(control: ControlName, editable: boolean): ControlSpec {
  return {
    control,
    defaults: { value: "", description: "", ...(editable ? { disabled: false, placeholder: "" } : {}) },
    editable: editable ? ["value"] : [],
    coerce: { value: text, ...describedRules, placeholder: text },
  };
}

const SPECS = {
  IntSlider: slider("IntSlider", true),
  FloatSlider: slider("FloatSlider", false),
  IntProgress: progressBar("IntProgress", true),
  FloatProgress: progressBar("FloatProgress", false),
  Button: {
    control: "Button",
    defaults: { ...described, tooltip: "", icon: "", buttonStyle: "" },
    editable: [],
    coerce: { ...describedRules, tooltip: text, icon: text, buttonStyle: oneOf(...STYLES) },
  },
  Checkbox: { control: "Checkbox", defaults: { value: false, ...described }, editable: ["value"], coerce: { value: bool, ...describedRules } },
  Dropdown: { control: "Dropdown", defaults: { options: [], value: "", ...described }, editable: ["value"], coerce: { options: labels, value: choice, ...describedRules } },
  Text: textual("Text", true),
  HTML: textual("HTML", false),
  Label: textual("Label", false),
  HBox: { control: "HBox", defaults: { children: [] }, editable: [], coerce: {} },
  VBox: { control: "VBox", defaults: { children: [] }, editable: [], coerce: {} },
} satisfies Record<ControlName, ControlSpec>;

// --- Options, one interface per kind -----------------------------------------------------------

/** What labelled controls share. */
export interface Described {
  /** The label shown beside the control. */
  description: string;
  /** Whether the user can't change it. */
  disabled: boolean;
}
/** A slider's properties. */
export interface SliderOptions extends Described {
  value: number;
  min: number;
  max: number;
  step: number;
  /** Whether values are sent while the handle is dragged (else once it is let go). */
  continuousUpdate: boolean;
  /** Whether the value is shown beside the slider. */
  readout: boolean;
  orientation: "horizontal" | "vertical";
}
/** A progress bar's properties. */
export interface ProgressOptions {
  value: number;
  min: number;
  max: number;
  description: string;
  barStyle: "" | "success" | "info" | "warning" | "danger";
  orientation: "horizontal" | "vertical";
}
/** A button's properties. */
export interface ButtonOptions extends Described {
  tooltip: string;
  /** A Font Awesome icon name ("stop"). */
  icon: string;
  buttonStyle: "" | "primary" | "success" | "info" | "warning" | "danger";
}
/** A checkbox's properties. */
export interface CheckboxOptions extends Described {
  value: boolean;
}
/** A dropdown's properties: `value` is one of `options`. */
export interface DropdownOptions extends Described {
  options: string[];
  value: string;
}
/** A text field's properties. */
export interface TextOptions extends Described {
  value: string;
  placeholder: string;
}
/** HTML's and a label's properties. */
export interface ShownTextOptions {
  value: string;
  description: string;
}

// --- Classes -----------------------------------------------------------------------------------

/** A widget with a typed `value` the user can change or the kernel shows. */
export class ValueWidget<T> extends Widget {
  /** The current value (set it to change the view). */
  get value(): T {
    return this.get("value") as T;
  }
  set value(value: T) {
    this.set({ value });
  }

  /** Calls `handler(value, old)` after each change of the value, from the frontend or the kernel; returns a function that stops it. */
  onChange(handler: (value: T, old: T) => unknown): () => void {
    if (typeof handler !== "function") throw new TypeError(`${this.label()}.onChange: handler must be a function (value, old) => void`);
    return this.observe((change) => handler(change.new as T, change.old as T), "value");
  }
}

/** Makes accessors for properties declared by an interface merged with `cls`. */
function accessors(cls: { prototype: object }, keys: readonly string[]): void {
  for (const key of keys) {
    Object.defineProperty(cls.prototype, key, {
      get(this: { state: KernelState }) {
        const value = this.state[key];
        return Array.isArray(value) ? [...value] : value;
      },
      set(this: Widget, value: unknown) {
        this.set({ [key]: value });
      },
    });
  }
}
const props = (spec: ControlSpec) => Object.keys(spec.defaults).filter((k) => k !== "value" && k !== "children");

type Props<O> = Omit<O, "value">;

/** An integer slider. */
export interface IntSlider extends Props<SliderOptions> {}
export class IntSlider extends ValueWidget<number> {
  constructor(ctx: WidgetContext, options: Partial<SliderOptions> = {}) { super(ctx, SPECS.IntSlider, options); }
}
/** A slider over real numbers. */
export interface FloatSlider extends Props<SliderOptions> {}
export class FloatSlider extends ValueWidget<number> {
  constructor(ctx: WidgetContext, options: Partial<SliderOptions> = {}) { super(ctx, SPECS.FloatSlider, options); }
}
/** A progress bar counting in integers. */
export interface IntProgress extends Props<ProgressOptions> {}
export class IntProgress extends ValueWidget<number> {
  constructor(ctx: WidgetContext, options: Partial<ProgressOptions> = {}) { super(ctx, SPECS.IntProgress, options); }
}
/** A progress bar over real numbers. */
export interface FloatProgress extends Props<ProgressOptions> {}
export class FloatProgress extends ValueWidget<number> {
  constructor(ctx: WidgetContext, options: Partial<ProgressOptions> = {}) { super(ctx, SPECS.FloatProgress, options); }
}
/** A checkbox. */
export interface Checkbox extends Props<CheckboxOptions> {}
export class Checkbox extends ValueWidget<boolean> {
  constructor(ctx: WidgetContext, options: Partial<CheckboxOptions> = {}) { super(ctx, SPECS.Checkbox, options); }
}
/** A dropdown list of strings. */
export interface Dropdown extends Props<DropdownOptions> {}
export class Dropdown extends ValueWidget<string> {
  constructor(ctx: WidgetContext, options: Partial<DropdownOptions> = {}) { super(ctx, SPECS.Dropdown, options); }
}
/** HTML shown as it is. */
export interface HTML extends Props<ShownTextOptions> {}
export class HTML extends ValueWidget<string> {
  constructor(ctx: WidgetContext, options: Partial<ShownTextOptions> = {}) { super(ctx, SPECS.HTML, options); }
}
/** A line of plain text. */
export interface Label extends Props<ShownTextOptions> {}
export class Label extends ValueWidget<string> {
  constructor(ctx: WidgetContext, options: Partial<ShownTextOptions> = {}) { super(ctx, SPECS.Label, options); }
}

/** A one-line text field; Enter submits it. */
export interface Text extends Props<TextOptions> {}
export class Text extends ValueWidget<string> {
  private readonly submitted: Array<(value: string) => unknown> = [];
  constructor(ctx: WidgetContext, options: Partial<TextOptions> = {}) { super(ctx, SPECS.Text, options); }

  /** Calls `handler(value)` when the user presses Enter in the field; returns a function that stops it. */
  onSubmit(handler: (value: string) => unknown): () => void {
    return listen(this.submitted, handler, `${this.label()}.onSubmit`);
  }

  protected override custom(content: Record<string, unknown>): unknown {
    if (content.event !== "submit") return super.custom(content);
    return this.notify(this.submitted, [this.value], `the submit handler of ${this.label()}`);
  }
}

/** A button. */
export interface Button extends ButtonOptions {}
export class Button extends Widget {
  private readonly clicks: Array<(button: Button) => unknown> = [];
  constructor(ctx: WidgetContext, options: Partial<ButtonOptions> = {}) { super(ctx, SPECS.Button, options); }

  /** Calls `handler(button)` at each click (also while a cell runs); returns a function that stops it. */
  onClick(handler: (button: Button) => unknown): () => void {
    return listen(this.clicks, handler, `${this.label()}.onClick`);
  }

  protected override custom(content: Record<string, unknown>): unknown {
    if (content.event !== "click") return super.custom(content);
    return this.notify(this.clicks, [this], `the click handler of ${this.label()}`);
  }
}

/** Widgets side by side (HBox) or stacked (VBox). */
export class Box extends Widget {
  private static readonly kids = new WeakMap<Box, Widget[]>();

  /** The widgets inside, in order. */
  get children(): Widget[] {
    return [...(Box.kids.get(this) ?? [])];
  }
  set children(children: Widget[]) {
    this.set({ children });
  }

  /** `VBox([HBox([FloatSlider(…), Button(…)]), Label(…)])`. */
  override toString(): string {
    return `${this.spec.control}([${this.children.map((c) => c.toString()).join(", ")}])`;
  }

  protected override serializeOptions(options: KernelState): KernelState {
    if (!("children" in options)) return options;
    const children = options.children;
    const caller = `widgets.${this.spec.control}`;
    if (!Array.isArray(children)) throw new TypeError(`${caller}: children must be an array of widgets`);
    children.forEach((c, i) => {
      if (!(c instanceof Widget)) throw new TypeError(`${caller}: children[${i}] is not a widget`);
    });
    Box.kids.set(this, [...(children as Widget[])]);
    return { ...options, children: (children as Widget[]).map((c) => c.modelId) };
  }
}
/** Widgets side by side. */
export class HBox extends Box {
  constructor(ctx: WidgetContext, children: Widget[] = []) { super(ctx, SPECS.HBox, { children }); }
}
/** Widgets stacked. */
export class VBox extends Box {
  constructor(ctx: WidgetContext, children: Widget[] = []) { super(ctx, SPECS.VBox, { children }); }
}

for (const [cls, spec] of [
  [IntSlider, SPECS.IntSlider], [FloatSlider, SPECS.FloatSlider], [IntProgress, SPECS.IntProgress], [FloatProgress, SPECS.FloatProgress],
  [Checkbox, SPECS.Checkbox], [Dropdown, SPECS.Dropdown], [HTML, SPECS.HTML], [Label, SPECS.Label], [Text, SPECS.Text], [Button, SPECS.Button],
] as const) accessors(cls, props(spec));

function listen<F extends (...args: never[]) => unknown>(list: F[], handler: F, caller: string): () => void {
  if (typeof handler !== "function") throw new TypeError(`${caller}: handler must be a function`);
  list.push(handler);
  return () => {
    const i = list.indexOf(handler);
    if (i >= 0) list.splice(i, 1);
  };
}
