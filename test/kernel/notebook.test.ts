// The runner's notebook handling without a kernel: schema validation and output collection.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Msg } from "../../kernel/runner/client.ts";
import { OutputCollector, outputText, validateNotebook } from "../../kernel/runner/notebook.ts";
import { ROOT } from "./jupyter-env.ts";

function msg(msg_type: string, content: Record<string, unknown>): Msg {
  return { channel: "iopub", header: { msg_id: "m", session: "s", username: "u", date: "", msg_type, version: "5.3" }, parent_header: {}, metadata: {}, content };
}

/** The cell ids that appear more than once. */
function repeatedIds(cells: Array<{ id?: string }>): string[] {
  const ids = cells.map((c) => c.id).filter((id) => id !== undefined);
  return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
}

describe("nbformat validation", () => {
  it.each(readdirSync(join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb")))("%s is valid nbformat 4", (name) => {
    const nb = JSON.parse(readFileSync(join(ROOT, "notebooks", name), "utf8"));
    validateNotebook(nb, name);
    // The schema can't say ids are unique; nbconvert warns DuplicateCellId (and renames one).
    expect(repeatedIds(nb.cells), `${name}: cells sharing an id`).toEqual([]);
  });

  it("lists every violation of an invalid notebook", () => {
    const bad = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", source: 3 }] };
    expect(() => validateNotebook(bad, "bad.ipynb")).toThrow(/bad\.ipynb is not a valid nbformat 4 notebook/);
  });
});

describe("OutputCollector", () => {
  it("merges consecutive streams, applies clear_output(wait) and display updates", () => {
    const c = new OutputCollector();
    c.add(msg("stream", { name: "stdout", text: "a" }));
    c.add(msg("stream", { name: "stdout", text: "b" }));
    c.add(msg("display_data", { data: { "text/plain": "v1" }, metadata: {}, transient: { display_id: "p" } }));
    c.add(msg("update_display_data", { data: { "text/plain": "v2" }, metadata: {}, transient: { display_id: "p" } }));
    expect(c.outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "ab" },
      { output_type: "display_data", data: { "text/plain": "v2" }, metadata: {} },
    ]);
    c.add(msg("clear_output", { wait: true }));
    expect(c.outputs).toHaveLength(2);
    c.add(msg("execute_result", { data: { "text/plain": "3" }, metadata: {}, execution_count: 4 }));
    expect(c.outputs).toEqual([{ output_type: "execute_result", data: { "text/plain": "3" }, metadata: {}, execution_count: 4 }]);
    expect(outputText(c.outputs[0]!)).toBe("Out[4]: 3\n");
  });

  it("prints errors with their traceback, without ANSI colours", () => {
    const c = new OutputCollector();
    c.add(msg("error", { ename: "Error", evalue: "x", traceback: ["\u001b[31mError: x\u001b[0m", "    at cell:1"] }));
    expect(outputText(c.outputs[0]!)).toBe("Error: x\n    at cell:1\n");
  });
});
