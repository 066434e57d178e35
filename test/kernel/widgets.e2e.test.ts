// Widgets through the real kernel over ZeroMQ: without a frontend (protocol 2 by default), then
// the test playing the classic Notebook's widget manager (protocol 1: jupyter-js-widgets 2.1):
// models opened on `jupyter.widget` with their whole state, shown by a display message, edited by the "frontend" while a cell runs (its onChange
// fires during the cell), set by the kernel, rebuilt on request_state, clicked; and messages with
// any content, which never take the kernel down.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTimeout, type Exchange } from "../../kernel/runner/client.ts";
import type { LaunchedKernel } from "../../kernel/runner/launch.ts";
import { kernelWithComms, ofType, resultOf, runClean, type frontendComms } from "./frontend-comms.ts";

const VIEW = "application/vnd.jupyter.widget-view+json";
let k: LaunchedKernel;
let fe: ReturnType<typeof frontendComms>;

beforeAll(async () => {
  ({ k, fe } = await kernelWithComms());
});

afterAll(async () => {
  await k?.shutdown();
});

const run = (code: string): Promise<Exchange> => runClean(k, code);
const value = resultOf;

describe("widgets without a widget frontend", () => {
  it("open a model with its whole state in protocol 2 (what nbclient reads), and show as text beside the view", async () => {
    const x = await run('const n = widgets.IntSlider({ max: 10, value: 3, description: "n" });\nn');
    const [open] = ofType(x, "comm_open");
    expect(open!.content.target_name).toBe("jupyter.widget");
    expect(open!.metadata).toEqual({ version: "2.1.0" });
    expect(open!.content.data).toMatchObject({
      state: { _model_name: "IntSliderModel", _view_name: "IntSliderView", _model_module: "@jupyter-widgets/controls", _model_module_version: "2.0.0",
        value: 3, min: 0, max: 10, step: 1, description: "n", continuous_update: true },
      buffer_paths: [],
    });
    const id = String(open!.content.comm_id);
    // A widget as the cell's last value is displayed, not a result (as ipywidgets' are).
    expect(value(x)).toBeUndefined();
    expect(ofType(x, "comm_msg")).toEqual([]);
    expect(ofType(x, "display_data")[0]?.content.data).toEqual({ [VIEW]: { model_id: id, version_major: 2, version_minor: 0 }, "text/plain": 'IntSlider(value=3, max=10, description="n")' });
    expect(value(await run("widgets.frontend.present"))?.["text/plain"]).toBe("false");
  });

  it("refuse bad options with an error that names them", async () => {
    const x = await k.client.execute('widgets.IntSlider({ max: "ten" } as any)');
    expect(x.reply.content).toMatchObject({ status: "error", evalue: expect.stringContaining("max must be an integer") });
    const y = await k.client.execute("widgets.Checkbox({ colour: 1 } as any)");
    expect(y.reply.content).toMatchObject({ status: "error", evalue: expect.stringContaining('unknown option "colour"') });
    const z = await k.client.execute('widgets.Dropdown({ options: ["a"], value: "b" })');
    expect(z.reply.content).toMatchObject({ status: "error", evalue: expect.stringContaining('one of the options ("a")') });
  });
});

describe("widgets with the classic Notebook's widget manager", () => {
  let slider = "";

  beforeAll(async () => {
    // What the extension does on connecting: open the version comm and answer the kernel's range.
    const open = await fe.comm("comm_open", { comm_id: "version-1", target_name: "jupyter.widget.version", data: {} });
    expect(ofType(open, "comm_msg")[0]?.content).toEqual({ comm_id: "version-1", data: { version: "~2.1.4" } });
    await fe.comm("comm_msg", { comm_id: "version-1", data: { validated: true, frontend_version: "2.1.4" } });
    const x = await run('const speed = widgets.FloatSlider({ min: 0, max: 10, value: 1, description: "speed" });\ndisplay(speed);\nwidgets.frontend');
    slider = String(ofType(x, "comm_open")[0]!.content.comm_id);
    expect(value(x)?.["text/plain"]).toContain("present: true");
    expect(value(x)?.["text/plain"]).toContain("version: '2.1.4'");
    // With the manager there, no text beside the view: the extension would show it under the widget.
    expect(ofType(x, "display_data")[0]?.content.data).toEqual({ [VIEW]: { model_id: slider } });
  });

  it("delivers a user's edit to onChange while a cell runs, before the cell's reply", async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const cell = k.client.execute(
      'console.log("waiting");\nconst seen = await new Promise<number>((resolve) => speed.onChange((v, old) => { if (v !== old) resolve(v); }));\n`changed to ${seen}, value ${speed.value}`',
      {},
      (m) => { if (m.header.msg_type === "stream") started(); },
    );
    await withTimeout(running, 10_000, "the cell to start waiting");
    const edit = await fe.comm("comm_msg", { comm_id: slider, data: { method: "backbone", sync_data: { value: 2.5 } } });
    // The edit is in the frontend's view already: nothing is sent back.
    expect(ofType(edit, "comm_msg")).toEqual([]);
    const x = await withTimeout(cell, 10_000, "the cell to see the change");
    expect(value(x)?.["text/plain"]).toBe("'changed to 2.5, value 2.5'");
  });

  it("clamps a frontend value out of range and tells the frontend the kept value", async () => {
    const edit = await fe.comm("comm_msg", { comm_id: slider, data: { method: "backbone", sync_data: { value: 99 } } });
    expect(ofType(edit, "comm_msg")[0]?.content.data).toEqual({ method: "update", state: { value: 10 }, buffers: [] });
    expect(value(await run("speed.value"))?.["text/plain"]).toBe("10");
  });

  it("sends what the kernel sets, with the observers told who changed it", async () => {
    const x = await run('const changes: string[] = [];\nspeed.observe((c) => changes.push(`${c.name}:${c.old}->${c.new}:${c.source}`));\nspeed.value = 4;\nspeed.set({ max: 3 });\nchanges');
    const updates = ofType(x, "comm_msg").map((m) => m.content.data);
    expect(updates).toEqual([
      { method: "update", state: { value: 4 }, buffers: [] },
      { method: "update", state: { value: 3, max: 3 }, buffers: [] },
    ]);
    expect(value(x)?.["text/plain"]).toBe("[ 'value:10->4:kernel', 'value:4->3:kernel', 'max:10->3:kernel' ]");
  });

  it("answers request_state with the whole state and the model's names (a page reload)", async () => {
    const x = await fe.comm("comm_msg", { comm_id: slider, data: { method: "request_state" } });
    expect(ofType(x, "comm_msg")[0]?.content.data).toMatchObject({
      method: "update", state: { _model_name: "FloatSliderModel", _view_name: "FloatSliderView", value: 3, max: 3, description: "speed" },
    });
  });

  it("refuses an edit of the wrong type and puts the frontend's view back", async () => {
    const x = await fe.comm("comm_msg", { comm_id: slider, data: { method: "backbone", sync_data: { value: "fast", max: 50 } } });
    expect(ofType(x, "comm_msg")[0]?.content.data).toEqual({ method: "update", state: { value: 3 }, buffers: [] });
    await withTimeout(k.waitForStderr(/FloatSlider "speed": the frontend may not change max: ignored/), 10_000, "the log line");
    await withTimeout(k.waitForStderr(/refused the frontend's .*value must be a finite number/), 10_000, "the log line");
  });

  it("runs a button's click handler, boxes refer to their children, a dropdown sends its labels", async () => {
    const x = await run('let clicks = 0;\nconst stop = widgets.Button({ description: "stop", icon: "stop" });\nstop.onClick(() => { clicks++; });\nconst pick = widgets.Dropdown({ options: ["slow", "fast"], value: "fast" });\nconst row = widgets.HBox([stop, pick]);\nrow');
    const opens = ofType(x, "comm_open");
    const [button, dropdown, box] = opens.map((m) => m.content);
    expect(button!.data).toMatchObject({ _model_name: "ButtonModel", description: "stop", icon: "stop", button_style: "" });
    expect(dropdown!.data).toMatchObject({ _model_name: "DropdownModel", _options_labels: ["slow", "fast"], value: "fast" });
    expect(box!.data).toMatchObject({ _model_name: "HBoxModel", children: [`IPY_MODEL_${button!.comm_id}`, `IPY_MODEL_${dropdown!.comm_id}`] });
    await fe.comm("comm_msg", { comm_id: button!.comm_id, data: { method: "custom", content: { event: "click" } } });
    await fe.comm("comm_msg", { comm_id: dropdown!.comm_id, data: { method: "backbone", sync_data: { value: "slow" } } });
    expect(value(await run("`${clicks} ${pick.value} ${row.children.length}`"))?.["text/plain"]).toBe("'1 slow 2'");
  });

  it("shows a displayed chart as an HTML widget, and its update as the widget's new value", async () => {
    const x = await run("const drawn = display(lineChart({ a: [1, 2] }));\ndrawn.update(lineChart({ a: [3, 4, 5] }));");
    const open = ofType(x, "comm_open")[0]!.content;
    expect(open.data).toMatchObject({ _model_name: "HTMLModel", value: expect.stringMatching(/^<svg /) });
    const sent = ofType(x, "comm_msg").map((m) => m.content.data as { method: string; state?: { value?: string } });
    expect(sent.map((d) => d.method)).toEqual(["display", "update"]);
    expect(sent[1]!.state!.value).toMatch(/^<svg [\s\S]*>3<\/text>/);
    // No SVG output beside the widget, and no update_display_data: the widget is redrawn in place.
    expect(ofType(x, "display_data").map((m) => Object.keys(m.content.data as object))).toEqual([[VIEW]]);
    expect(ofType(x, "update_display_data")).toEqual([]);
  });

  it("type-checks widget values in cells", async () => {
    const ok = await run("const typed: widgets.IntSlider = widgets.IntSlider({ max: 5 });\nfunction twice(s: widgets.IntSlider): number { return s.value * 2; }\ntwice(typed)");
    expect(value(ok)?.["text/plain"]).toBe("0");
    const bad = await k.client.execute("function label(box: widgets.Checkbox): string { return box.value; }");
    const stderr = ofType(bad, "stream").map((m) => m.content.text).join("");
    expect(stderr).toMatch(/TS2322: Type 'boolean' is not assignable to type 'string'/);
  });

  it("fuzz: widget messages with any content never crash the kernel, and the widget keeps working", async () => {
    const method = fc.oneof(fc.constantFrom("backbone", "request_state", "custom", "display", "update"), fc.jsonValue({ maxDepth: 1 }));
    const data = fc.oneof(
      fc.record({ method, sync_data: fc.oneof(fc.dictionary(fc.constantFrom("value", "max", "min", "_model_name", "description", "x"), fc.jsonValue({ maxDepth: 2 })), fc.jsonValue({ maxDepth: 2 })), buffer_keys: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: ["method"] }),
      fc.record({ method, content: fc.jsonValue({ maxDepth: 2 }) }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const batch = fc.sample(fc.record({ data, buffers: fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 2 }) }), { numRuns: 300, seed: 1313 });
    for (const m of batch) {
      k.client.sendRaw("shell", k.client.header("comm_msg"), {}, { comm_id: slider, data: m.data }, { buffers: m.buffers.map((b) => Buffer.from(b)) });
    }
    // The comm lane keeps order: this edit is handled after every message above.
    await fe.comm("comm_msg", { comm_id: slider, data: { method: "backbone", sync_data: { value: 1.5 } } });
    const x = await run("[speed.value, speed.min <= speed.max, typeof speed.description]");
    expect(value(x)?.["text/plain"]).toBe("[ 1.5, true, 'string' ]");
    expect(k.stderr()).not.toMatch(/uncaught/i);
  }, 60_000);
});
