// Comms as JupyterLab uses them: @jupyterlab/services (KernelConnection.createComm and
// registerCommTarget) through Debian's jupyter_server, which relays them over a websocket,
// binary buffers included, while a cell is still running; and widgets (protocol 1), the test
// acting as the widget manager over the same API.
import { KernelManager } from "@jupyterlab/services";
import type { Kernel, KernelMessage } from "@jupyterlab/services";
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTimeout } from "../../kernel/runner/client.ts";
import { jupyterEnv, startJupyterServer, type JupyterEnv, type JupyterServer } from "./jupyter-env.ts";
import { describeWith, hasTools } from "../system-tools.ts";
import { labSettings } from "./lab-settings.ts";

let je: JupyterEnv;
let server: JupyterServer;
let manager: KernelManager;
let kernel: Kernel.IKernelConnection;

beforeAll(async () => {
  if (!hasTools("jupyter_server")) return; // the suite below is left out
  je = jupyterEnv();
  server = await startJupyterServer(je);
  const settings = labSettings(server);
  manager = new KernelManager({ serverSettings: settings });
  kernel = await manager.startNew({ name: "charm4ts" });
  await kernel.info;
}, 60_000);

afterAll(async () => {
  await kernel?.shutdown().catch(() => {});
  manager?.dispose();
  await server?.stop();
  je?.cleanup();
}, 60_000);

/** The bytes of a buffer as @jupyterlab/services hands it over (an ArrayBuffer or a view). */
function bytes(buffer: ArrayBuffer | ArrayBufferView): number[] {
  return [...(ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : new Uint8Array(buffer))];
}

/** A queue of a comm's messages: `next()` resolves with the next one, failing after 10 s. */
function inbox(comm: Kernel.IComm): { next(what: string): Promise<KernelMessage.ICommMsgMsg> } {
  const received: KernelMessage.ICommMsgMsg[] = [];
  const waiting: Array<(m: KernelMessage.ICommMsgMsg) => void> = [];
  comm.onMsg = (m) => {
    const w = waiting.shift();
    if (w) w(m);
    else received.push(m);
  };
  return {
    next: (what) => {
      const ready = received.shift();
      return ready ? Promise.resolve(ready) : withTimeout(new Promise((r) => waiting.push(r)), 10_000, `waiting for ${what}`);
    },
  };
}

describeWith("jupyter_server")("comms through jupyter_server and @jupyterlab/services", () => {
  it("createComm to a target a cell registered: round trips with buffers while a 5 s cell runs", async () => {
    const setup = await kernel.requestExecute({
      code: `comms.register("lab.echo", (comm, open) => {
        comm.send({ opened: open.data });
        comm.onMsg((m) => comm.send({ echo: m.data }, {}, [new Uint8Array(m.buffers[0] ?? []).reverse()]));
      });`,
    }).done;
    expect(setup.content.status).toBe("ok");

    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const cell = kernel.requestExecute({ code: 'console.log("cell started"); await new Promise((r) => setTimeout(r, 5000)); "cell done"' });
    cell.onIOPub = (m) => {
      if (m.header.msg_type === "stream") started();
    };
    let cellDone = false;
    const cellReply = cell.done.then((r) => ((cellDone = true), r));
    await withTimeout(running, 10_000, "waiting for the long cell to start");

    const comm = kernel.createComm("lab.echo");
    const messages = inbox(comm);
    comm.open({ hello: "lab" });
    expect((await messages.next("the open handler's message")).content.data).toEqual({ opened: { hello: "lab" } });
    for (let i = 0; i < 3; i++) {
      comm.send({ i }, {}, [new Uint8Array([i, 10, 20])]);
      const reply = await messages.next(`the echo of message ${i}`);
      expect(reply.content.data).toEqual({ echo: { i } });
      expect(bytes(reply.buffers![0]!)).toEqual([20, 10, i]);
      expect(cellDone, `echo ${i} came after the cell's reply`).toBe(false);
    }
    const info = await kernel.requestCommInfo({ target_name: "lab.echo" });
    expect(info.content).toMatchObject({ status: "ok", comms: { [comm.commId]: { target_name: "lab.echo" } } });
    expect(cellDone).toBe(false);

    expect((await cellReply).content.status).toBe("ok");
    comm.close();
  }, 40_000);

  it("registerCommTarget: a comm a cell opens reaches the frontend's target and hears back", async () => {
    let opened!: (c: { comm: Kernel.IComm; msg: KernelMessage.ICommOpenMsg }) => void;
    const openedHere = new Promise<{ comm: Kernel.IComm; msg: KernelMessage.ICommOpenMsg }>((r) => (opened = r));
    kernel.registerCommTarget("lab.target", (comm, msg) => opened({ comm, msg }));
    const cell = await kernel.requestExecute({
      code: `const fromCell = comms.open("lab.target", { from: "cell" }, {}, [new Uint8Array([1, 2])]);
      fromCell.onMsg((m) => fromCell.send({ answer: m.data.question * 2 }));`,
    }).done;
    expect(cell.content.status).toBe("ok");
    const { comm, msg } = await withTimeout(openedHere, 10_000, "waiting for the cell's comm to reach the frontend's target");
    expect(msg.content.data).toEqual({ from: "cell" });
    expect(bytes(msg.buffers![0]!)).toEqual([1, 2]);
    const messages = inbox(comm);
    comm.send({ question: 21 });
    expect((await messages.next("the cell comm's answer")).content.data).toEqual({ answer: 42 });
  });

  it("widgets: a model a cell makes reaches the jupyter.widget target; a frontend edit reaches onChange while a cell runs", async () => {
    const models = new Map<string, { comm: Kernel.IComm; data: Record<string, unknown>; messages: ReturnType<typeof inbox> }>();
    kernel.registerCommTarget("jupyter.widget", (comm, msg) => {
      const data = msg.content.data as Record<string, unknown>;
      models.set(String(data._model_name), { comm, data, messages: inbox(comm) });
    });
    // The widget manager's version handshake.
    const version = kernel.createComm("jupyter.widget.version");
    const versionReplies = inbox(version);
    version.open({});
    expect((await versionReplies.next("the kernel's version range")).content.data).toEqual({ version: "~2.1.4" });
    version.send({ validated: true, frontend_version: "2.1.4" });

    const setup = await kernel.requestExecute({
      code: `const level = widgets.IntSlider({ max: 10, description: "level" });
const echo = widgets.Label({ value: "none" });
display(widgets.HBox([level, echo]));`,
    }).done;
    expect(setup.content.status).toBe("ok");
    expect([...models.keys()].sort()).toEqual(["HBoxModel", "IntSliderModel", "LabelModel"]);
    const slider = models.get("IntSliderModel")!;
    const label = models.get("LabelModel")!;
    expect(slider.data).toMatchObject({ _model_module: "jupyter-js-widgets", max: 10, description: "level" });
    expect((await models.get("HBoxModel")!.messages.next("the box's display message")).content.data).toEqual({ method: "display" });

    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const cell = kernel.requestExecute({
      code: 'console.log("waiting");\nconst got = await new Promise<number>((resolve) => level.onChange((v) => { echo.value = `seen ${v}`; if (v === 7) resolve(v); }));\n`got ${got}`',
    });
    cell.onIOPub = (m) => {
      if (m.header.msg_type === "stream") started();
    };
    let cellDone = false;
    const cellReply = cell.done.then((r) => ((cellDone = true), r));
    await withTimeout(running, 10_000, "waiting for the cell to start");
    slider.comm.send({ method: "backbone", sync_data: { value: 7 } });
    expect((await label.messages.next("the label's update from onChange")).content.data).toEqual({ method: "update", state: { value: "seen 7" }, buffers: [] });
    expect(cellDone, "the label's update came after the cell's reply").toBe(false);
    expect((await cellReply).content.status).toBe("ok");
  }, 40_000);
});
