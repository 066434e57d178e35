// Widgets through the real kernel over ZeroMQ, the test playing JupyterLab's widget manager
// (protocol 2: @jupyter-widgets/jupyterlab-manager 5, ipywidgets 8): it connects by opening the
// control comm and asking for every model's state; models then open with protocol 2's metadata
// and state shape, show by their view bundle alone, take the frontend's `update` edits while a
// cell runs, and come back whole to a reloaded page through the control comm.
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTimeout, type Exchange } from "../../kernel/runner/client.ts";
import type { LaunchedKernel } from "../../kernel/runner/launch.ts";
import { kernelWithComms, ofType, resultOf, runClean, type frontendComms } from "./frontend-comms.ts";

const VIEW = "application/vnd.jupyter.widget-view+json";
let k: LaunchedKernel;
let fe: ReturnType<typeof frontendComms>;
let controls = 0;

beforeAll(async () => {
  ({ k, fe } = await kernelWithComms());
});

afterAll(async () => {
  await k?.shutdown();
});

const run = (code: string): Promise<Exchange> => runClean(k, code);
const value = resultOf;

/** What the manager does on connecting (and a reloaded page again): every live model's state, by id. */
async function requestStates(): Promise<Record<string, { model_name: string; model_module: string; model_module_version: string; state: Record<string, unknown> }>> {
  const id = `control-${++controls}`;
  await fe.comm("comm_open", { comm_id: id, target_name: "jupyter.widget.control", data: {}, metadata: { version: "1.0.0" } });
  const x = await fe.comm("comm_msg", { comm_id: id, data: { method: "request_states" } });
  await fe.comm("comm_close", { comm_id: id, data: {} });
  const [answer] = ofType(x, "comm_msg");
  expect(answer?.content.comm_id).toBe(id);
  const data = answer!.content.data as { method: string; states: never; buffer_paths: unknown[] };
  expect(data.method).toBe("update_states");
  expect(data.buffer_paths).toEqual([]);
  return data.states;
}

let slider = "";

it("a frontend that opens the control comm gets protocol 2: models open with its version and state shape, shown by their view bundle", async () => {
  expect(await requestStates()).toEqual({});
  const x = await run('const speed = widgets.FloatSlider({ min: 0, max: 10, value: 1, description: "speed" });\ndisplay(speed);\nwidgets.frontend');
  expect(value(x)?.["text/plain"]).toMatch(/present: true[\s\S]*protocol: '2\.1\.0'/);
  const open = ofType(x, "comm_open")[0]!;
  slider = String(open.content.comm_id);
  expect(open.content.target_name).toBe("jupyter.widget");
  // JupyterLab's manager refuses a comm_open whose metadata names another major version.
  expect(open.metadata).toEqual({ version: "2.1.0" });
  expect(open.content.data).toEqual({
    state: {
      _model_name: "FloatSliderModel", _model_module: "@jupyter-widgets/controls", _model_module_version: "2.0.0",
      _view_name: "FloatSliderView", _view_module: "@jupyter-widgets/controls", _view_module_version: "2.0.0", _dom_classes: [],
      value: 1, min: 0, max: 10, step: 0.1, description: "speed", disabled: false, continuous_update: true, readout: true, orientation: "horizontal",
    },
    buffer_paths: [],
  });
  // No display message (protocol 1's): the view bundle shows it, with text for other frontends.
  expect(ofType(x, "comm_msg")).toEqual([]);
  expect(ofType(x, "display_data")[0]?.content.data).toEqual({
    [VIEW]: { model_id: slider, version_major: 2, version_minor: 0 },
    "text/plain": 'FloatSlider(value=1, max=10, description="speed")',
  });
});

it("delivers the frontend's update to onChange while a cell runs, and clamps what is out of range", async () => {
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const cell = k.client.execute(
    'console.log("waiting");\nconst seen = await new Promise<number>((resolve) => speed.onChange((v, old) => { if (v !== old) resolve(v); }));\n`changed to ${seen}`',
    {},
    (m) => { if (m.header.msg_type === "stream") started(); },
  );
  await withTimeout(running, 10_000, "the cell to start waiting");
  const edit = await fe.comm("comm_msg", { comm_id: slider, data: { method: "update", state: { value: 2.5 }, buffer_paths: [] } });
  expect(ofType(edit, "comm_msg")).toEqual([]);
  expect(value(await withTimeout(cell, 10_000, "the cell to see the change"))?.["text/plain"]).toBe("'changed to 2.5'");
  const clamped = await fe.comm("comm_msg", { comm_id: slider, data: { method: "update", state: { value: 99 }, buffer_paths: [] } });
  expect(ofType(clamped, "comm_msg")[0]?.content.data).toEqual({ method: "update", state: { value: 10 }, buffer_paths: [] });
  const set = await run("speed.value = 4;");
  expect(ofType(set, "comm_msg")[0]?.content.data).toEqual({ method: "update", state: { value: 4 }, buffer_paths: [] });
});

it("answers request_state, and a reloaded page's request_states with every live model of protocol 2", async () => {
  const x = await fe.comm("comm_msg", { comm_id: slider, data: { method: "request_state" } });
  expect(ofType(x, "comm_msg")[0]?.content.data).toMatchObject({ method: "update", state: { _model_name: "FloatSliderModel", value: 4 }, buffer_paths: [] });
  const made = await run('const gone = widgets.Label({ value: "bye" });\ngone.close();\nconst note = widgets.HTML({ value: "<b>hi</b>" });');
  const [goneId, noteId] = ofType(made, "comm_open").map((m) => String(m.content.comm_id));
  const states = await requestStates();
  expect(Object.keys(states).sort()).toEqual([noteId!, slider].sort());
  expect(states[slider]).toMatchObject({ model_name: "FloatSliderModel", model_module: "@jupyter-widgets/controls", model_module_version: "2.0.0", state: { value: 4, description: "speed" } });
  expect(states[noteId!]!.state).toMatchObject({ _model_name: "HTMLModel", value: "<b>hi</b>" });
  expect(goneId).toBeDefined();
});

it("a dropdown syncs its choice by index; a button's click runs its handler; a box refers to its children", async () => {
  const x = await run('let clicks = 0;\nconst stop = widgets.Button({ description: "stop" });\nstop.onClick(() => { clicks++; });\nconst pick = widgets.Dropdown({ options: ["slow", "fast"], value: "fast" });\nwidgets.HBox([stop, pick])');
  const [button, dropdown, box] = ofType(x, "comm_open").map((m) => m.content as { comm_id: string; data: { state: Record<string, unknown> } });
  expect(dropdown!.data.state).toMatchObject({ _model_name: "DropdownModel", _options_labels: ["slow", "fast"], index: 1 });
  expect(dropdown!.data.state).not.toHaveProperty("value");
  expect(box!.data.state).toMatchObject({ _model_name: "HBoxModel", children: [`IPY_MODEL_${button!.comm_id}`, `IPY_MODEL_${dropdown!.comm_id}`] });
  await fe.comm("comm_msg", { comm_id: button!.comm_id, data: { method: "custom", content: { event: "click" } } });
  await fe.comm("comm_msg", { comm_id: dropdown!.comm_id, data: { method: "update", state: { index: 0 }, buffer_paths: [] } });
  expect(value(await run("`${clicks} ${pick.value}`"))?.["text/plain"]).toBe("'1 slow'");
  const set = await run('pick.value = "fast";');
  expect(ofType(set, "comm_msg")[0]?.content.data).toEqual({ method: "update", state: { index: 1 }, buffer_paths: [] });
  // New options that keep the choice move its index: the frontend is told both.
  const moved = await run('pick.options = ["stop", "fast", "slow"];');
  expect(ofType(moved, "comm_msg")[0]?.content.data).toEqual({ method: "update", state: { _options_labels: ["stop", "fast", "slow"], index: 1 }, buffer_paths: [] });
  const shifted = await run('pick.options = ["fast"];');
  expect(ofType(shifted, "comm_msg")[0]?.content.data).toEqual({ method: "update", state: { _options_labels: ["fast"], index: 0 }, buffer_paths: [] });
});

it("fuzz: protocol 2 messages with any content never crash the kernel, and the widget keeps working", async () => {
  const method = fc.oneof(fc.constantFrom("update", "request_state", "custom", "echo_update", "request_states"), fc.jsonValue({ maxDepth: 1 }));
  const state = fc.oneof(fc.dictionary(fc.constantFrom("value", "max", "min", "index", "_model_name", "description", "x"), fc.jsonValue({ maxDepth: 2 })), fc.jsonValue({ maxDepth: 2 }));
  const data = fc.oneof(
    fc.record({ method, state, buffer_paths: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.array(fc.array(fc.oneof(fc.string(), fc.nat(3)), { maxLength: 3 }), { maxLength: 3 })) }, { requiredKeys: ["method"] }),
    fc.record({ method, content: fc.jsonValue({ maxDepth: 2 }) }),
    fc.jsonValue({ maxDepth: 3 }),
  );
  const batch = fc.sample(fc.record({ data, buffers: fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 2 }) }), { numRuns: 300, seed: 2121 });
  for (const m of batch) {
    k.client.sendRaw("shell", k.client.header("comm_msg"), {}, { comm_id: slider, data: m.data }, { buffers: m.buffers.map((b) => Buffer.from(b)) });
  }
  await fe.comm("comm_msg", { comm_id: slider, data: { method: "update", state: { value: 1.5 }, buffer_paths: [] } });
  const x = await run("[speed.value, speed.min <= speed.max, typeof speed.description]");
  expect(value(x)?.["text/plain"]).toBe("[ 1.5, true, 'string' ]");
  expect(k.stderr()).not.toMatch(/uncaught/i);
}, 60_000);
