/**
 * A widget model on the kernel's side: its state, the comm that mirrors it in the frontend, and
 * the observers a cell registers. A change made here is checked, sent and observed; a change the
 * frontend sends (a user dragging a slider) is checked, kept and observed — also while a cell
 * runs, since comm messages are handled between the running cell's awaits. What travels on the
 * wire is the protocol's business (protocol.ts), not this file's.
 */
import { inspect } from "node:util";
import type { CellComms, Comm, CommMessage } from "../cells/worker/comms.ts";
import type { ControlName, KernelState, WidgetProtocol } from "./protocol.ts";

const MIME_BUNDLE = Symbol.for("charm4ts.mimeBundle");
/** A widget as a cell's last value is displayed (display_data), as ipywidgets' are, not a result. */
const DISPLAY_INSTEAD = Symbol.for("charm4ts.displayInstead");

/** What widgets need from the cell thread. */
export interface WidgetContext {
  readonly comms: CellComms;
  /** The protocol the frontend announced (a widget keeps the one it was made with). */
  protocol(): WidgetProtocol;
  /** Whether a frontend that renders widgets is connected (else views fall back to text). */
  frontendPresent(): boolean;
  /** The live widgets, by model id: what a frontend fetching every model's state gets. */
  readonly live: Map<string, Widget>;
  /** A cell's handler failed: shown in the running cell, else logged. */
  failed(error: unknown, what: string): void;
  /** Something the frontend sent was unusable: for the kernel's log. */
  log(text: string): void;
}

/** One change of one property: its name, old and new values, and who made it. */
export interface Change<T = unknown> {
  readonly name: string;
  readonly old: T;
  readonly new: T;
  /** "frontend": a user's edit in the notebook; "kernel": code that set it. */
  readonly source: "kernel" | "frontend";
}

/** Called after a property changed (may be async: not awaited, a rejection is reported). */
export type Observer = (change: Change<any>) => unknown;

/** Checks one property's new value against the whole state; returns it (maybe adjusted) or throws. */
export type Coerce = (value: unknown, state: KernelState, name: string) => unknown;

/** What distinguishes one kind of control. */
export interface ControlSpec {
  readonly control: ControlName;
  /** The state a new widget starts with. */
  readonly defaults: KernelState;
  /** The properties the frontend may change (the rest it only shows). */
  readonly editable: readonly string[];
  /** The checks of the properties that have rules; `value` is checked again after any change. */
  readonly coerce: Readonly<Record<string, Coerce>>;
}

/** A widget: a model in the kernel mirrored by a comm in the frontend. */
export class Widget {
  /** The comm to the frontend's model (its id is the model id). */
  readonly comm: Comm;
  /** The wire protocol of this widget's model, chosen when it was made. */
  readonly protocol: WidgetProtocol;
  protected readonly state: KernelState;
  private readonly observers: Array<{ names: ReadonlySet<string> | undefined; handler: Observer }> = [];

  constructor(protected readonly ctx: WidgetContext, protected readonly spec: ControlSpec, options: KernelState = {}) {
    const caller = `widgets.${spec.control}`;
    if (typeof options !== "object" || options === null || Array.isArray(options)) throw new TypeError(`${caller}(options): options must be an object`);
    for (const key of Object.keys(options)) {
      if (!(key in spec.defaults)) throw new TypeError(`${caller}: unknown option "${key}" (options: ${Object.keys(spec.defaults).join(", ")})`);
    }
    this.state = settle(spec, { ...spec.defaults }, this.serializeOptions(options), caller);
    this.protocol = ctx.protocol();
    const open = this.protocol.open(spec.control, this.state);
    this.comm = ctx.comms.open(this.protocol.target, open.data, open.metadata, open.buffers);
    this.comm.onMsg((message) => this.receive(message));
    ctx.live.set(this.comm.id, this);
    this.comm.onClose(() => ctx.live.delete(this.comm.id));
  }

  /** The model id the frontend knows this widget by. */
  get modelId(): string {
    return this.comm.id;
  }

  /** Whether the widget was closed (its views are gone). */
  get closed(): boolean {
    return this.comm.closed;
  }

  /**
   * Calls `handler` after each change of the named properties (all when `names` is absent);
   * returns a function that stops it.
   */
  observe(handler: Observer, names?: string | readonly string[]): () => void {
    if (typeof handler !== "function") throw new TypeError(`${this.label()}.observe: handler must be a function (change) => void`);
    const list = names === undefined ? undefined : new Set(typeof names === "string" ? [names] : names);
    const entry = { names: list, handler };
    this.observers.push(entry);
    return () => {
      const i = this.observers.indexOf(entry);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  /** Sets several properties at once: checked, sent in one message, then observed. */
  set(changes: KernelState): this {
    this.change(this.serializeOptions(changes), "kernel");
    return this;
  }

  /** Removes the widget's views from the notebook and ends its comm. */
  close(): void {
    this.comm.close();
    this.ctx.live.delete(this.modelId);
  }

  /** Displayed, not an execute_result, as a cell's last value. */
  get [DISPLAY_INSTEAD](): boolean {
    return true;
  }

  /** Shows a view in the notebook (what `display(widget)` and a cell's last value do). */
  [MIME_BUNDLE](): Record<string, unknown> {
    const show = this.protocol.displayMessage();
    if (show && !this.comm.closed) this.comm.send(show.data, show.metadata, show.buffers);
    return this.protocol.viewBundle(this.modelId, this.toString(), this.ctx.frontendPresent());
  }

  /** The whole state as a frontend fetching every model at once wants it. */
  modelEntry(): Record<string, unknown> {
    return this.protocol.modelEntry(this.spec.control, this.state);
  }

  /** `IntSlider(value=3, min=0, max=10, description="speed")`: the text shown without a widget frontend. */
  toString(): string {
    const shown = Object.entries(this.state).filter(([k, v]) => v !== this.spec.defaults[k] || k === "value");
    return `${this.spec.control}(${shown.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  /** A property's current value. */
  protected get(name: string): unknown {
    return this.state[name];
  }

  /** How options reach the state: widgets inside them become their ids (Box children). */
  protected serializeOptions(options: KernelState): KernelState {
    return options;
  }

  /** A widget-specific frontend event (a click); overridden by the controls that have one. */
  protected custom(content: Record<string, unknown>): unknown {
    this.ctx.log(`${this.label()}: ignored the frontend's event ${JSON.stringify(content).slice(0, 200)}`);
    return undefined;
  }

  /** Calls `handlers` with `args`, each failure reported; the async ones are joined for the caller. */
  protected notify<A extends unknown[]>(handlers: Iterable<(...args: A) => unknown>, args: A, what: string): Promise<unknown> | undefined {
    const pending: Promise<unknown>[] = [];
    for (const handler of handlers) {
      try {
        const result = handler(...args);
        if (isThenable(result)) pending.push(Promise.resolve(result).catch((error: unknown) => this.ctx.failed(error, what)));
      } catch (error) {
        this.ctx.failed(error, what);
      }
    }
    return pending.length > 0 ? Promise.all(pending) : undefined;
  }

  protected label(): string {
    const description = this.state.description;
    return `${this.spec.control}${typeof description === "string" && description !== "" ? ` "${description}"` : ""}`;
  }

  /** Applies checked changes, tells the frontend what differs from what it sent, then the observers. */
  private change(requested: KernelState, source: Change["source"]): Promise<unknown> | undefined {
    const before = { ...this.state };
    const after = settle(this.spec, { ...this.state }, requested, `${this.label()}`);
    const changed = Object.keys(after).filter((k) => !sameValue(after[k], before[k]));
    Object.assign(this.state, after);
    // A frontend's edit is already in its view, unless it was adjusted here (clamped, rounded).
    const send = source === "kernel" ? changed : Object.keys(requested).filter((k) => !sameValue(after[k], requested[k]));
    if (send.length > 0 && !this.comm.closed) {
      const update = this.protocol.update(this.spec.control, this.state, send);
      this.comm.send(update.data, update.metadata, update.buffers);
    }
    const calls = changed.flatMap((name) => {
      const change: Change = { name, old: before[name], new: after[name], source };
      return this.observers.filter((o) => o.names === undefined || o.names.has(name)).map((o) => () => o.handler(change));
    });
    return this.notify(calls, [], `an observer of ${this.label()}`);
  }

  /** A frontend's comm message: an edit, a request for the whole state, or an event. */
  private receive(message: CommMessage): unknown {
    const request = this.protocol.parse(this.spec.control, message, this.state);
    switch (request.kind) {
      case "state": {
        const editable = Object.fromEntries(Object.entries(request.state).filter(([k]) => this.spec.editable.includes(k)));
        const ignored = Object.keys(request.state).filter((k) => !(k in editable));
        if (ignored.length > 0) this.ctx.log(`${this.label()}: the frontend may not change ${ignored.join(", ")}: ignored`);
        try {
          return this.change(editable, "frontend");
        } catch (error) {
          // A value the rules refuse: the frontend's view goes back to the kernel's value.
          this.ctx.log(`${this.label()}: refused the frontend's ${JSON.stringify(request.state).slice(0, 200)}: ${(error as Error).message}`);
          const update = this.protocol.update(this.spec.control, this.state, Object.keys(editable));
          this.comm.send(update.data, update.metadata, update.buffers);
          return undefined;
        }
      }
      case "request-state": {
        const update = this.protocol.update(this.spec.control, this.state, "all");
        this.comm.send(update.data, update.metadata, update.buffers);
        return undefined;
      }
      case "custom":
        return this.custom(request.content);
      case "unknown":
        this.ctx.log(`${this.label()}: ignored a frontend message (${request.why})`);
        return undefined;
      default:
        request satisfies never;
        return undefined;
    }
  }
}

/**
 * `state` with `changes` applied, each checked by its rule (a wrong value throws a TypeError that
 * names the property); `value` is checked again afterwards, since its rules read the others
 * (a slider's bounds, a dropdown's options). Keys the frontend may not know are left out.
 */
function settle(spec: ControlSpec, state: KernelState, changes: KernelState, caller: string): KernelState {
  for (const [name, value] of Object.entries(changes)) {
    if (!(name in spec.defaults)) continue;
    const rule = spec.coerce[name];
    state[name] = rule ? rule(value, { ...state, ...changes }, `${caller}: ${name}`) : value;
  }
  const valueRule = spec.coerce.value;
  if (valueRule && "value" in state) state.value = valueRule(state.value, state, `${caller}: value`);
  return state;
}

/** Equal as JSON values (options lists compare by content). */
function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "object" && typeof b === "object" && JSON.stringify(a) === JSON.stringify(b));
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof (x as { then?: unknown } | null)?.then === "function";
}
