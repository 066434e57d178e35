// Notebooks as data: nbformat 4 validation, iopub messages → nbformat outputs, outputs → text.
// The schema is nbformat's own v4.5 JSON schema, vendored from Debian's python3-nbformat 5.5.0
// (/usr/lib/python3/dist-packages/nbformat/v4/nbformat.v4.5.schema.json; BSD-3-Clause,
// © IPython / Jupyter Development Team), so the runner needs no Python.
import AjvDraft04 from "ajv-draft-04";
import schema from "./nbformat.v4.5.schema.json" with { type: "json" };
import type { Msg } from "./client.ts";

/** An nbformat 4 output object. */
export type Output = Record<string, unknown> & { output_type: string };

/** An nbformat 4 cell (the fields the runner reads and writes). */
export interface Cell {
  id?: string;
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
}

/** An nbformat 4 notebook. */
export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
}

// A CommonJS package: under Node's ESM interop its class is the `default` of module.exports.
const Ajv = AjvDraft04.default;
let validator: ReturnType<InstanceType<typeof Ajv>["compile"]> | undefined;

/** Throws with every schema violation listed if `nb` is not a valid nbformat 4 notebook. */
export function validateNotebook(nb: unknown, name = "notebook"): asserts nb is Notebook {
  // allErrors: one run shows every problem; strict off: the schema uses draft-04 idioms.
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(schema);
  if (!validator(nb)) {
    const lines = (validator.errors ?? []).map((e) => `  ${e.instancePath || "/"} ${e.message ?? ""}`);
    throw new Error(`${name} is not a valid nbformat 4 notebook:\n${lines.join("\n")}`);
  }
}

/** A cell's source as one string. */
export function sourceText(cell: Cell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Turns an iopub message into the nbformat output it stands for (undefined for status etc.). */
export function toOutput(m: Msg): Output | undefined {
  const c = m.content;
  switch (m.header.msg_type) {
    case "stream":
      return { output_type: "stream", name: c.name, text: c.text };
    case "display_data":
      return { output_type: "display_data", data: c.data, metadata: c.metadata ?? {} };
    case "execute_result":
      return { output_type: "execute_result", data: c.data, metadata: c.metadata ?? {}, execution_count: c.execution_count };
    case "error":
      return { output_type: "error", ename: c.ename, evalue: c.evalue, traceback: c.traceback };
    default:
      return undefined;
  }
}

/** Collects a cell's outputs as nbclient does: streams merge, clear_output and display updates apply. */
export class OutputCollector {
  readonly outputs: Output[] = [];
  private clearPending = false;
  private readonly byDisplayId = new Map<string, Output[]>();

  /** Applies one iopub message of the cell. */
  add(m: Msg): void {
    const t = m.header.msg_type;
    if (t === "clear_output") {
      if (m.content.wait) this.clearPending = true;
      else this.outputs.length = 0;
      return;
    }
    if (t === "update_display_data") {
      const id = (m.content.transient as { display_id?: string } | undefined)?.display_id;
      for (const o of (id && this.byDisplayId.get(id)) || []) {
        o.data = m.content.data;
        o.metadata = m.content.metadata ?? {};
      }
      return;
    }
    const out = toOutput(m);
    if (!out) return;
    if (this.clearPending) {
      this.outputs.length = 0;
      this.clearPending = false;
    }
    const last = this.outputs.at(-1);
    if (out.output_type === "stream" && last?.output_type === "stream" && last.name === out.name) {
      last.text = String(last.text) + String(out.text);
      return;
    }
    this.outputs.push(out);
    const id = (m.content.transient as { display_id?: string } | undefined)?.display_id;
    if (id) this.byDisplayId.set(id, [...(this.byDisplayId.get(id) ?? []), out]);
  }
}

// Strips ANSI colour codes from tracebacks for plain-text printing.
const ANSI = /\u001b\[[0-9;]*m/g;

/** A text rendering of one output, as a terminal reader wants it. */
export function outputText(o: Output): string {
  switch (o.output_type) {
    case "stream":
      return String(o.text);
    case "error":
      return (o.traceback as string[]).join("\n").replace(ANSI, "") + "\n";
    case "display_data":
    case "execute_result": {
      const data = o.data as Record<string, unknown>;
      const prefix = o.output_type === "execute_result" ? `Out[${o.execution_count}]: ` : "";
      if (typeof data["text/plain"] === "string") return prefix + data["text/plain"] + "\n";
      return `${prefix}[${Object.keys(data).join(", ")}]\n`;
    }
    default:
      return "";
  }
}
