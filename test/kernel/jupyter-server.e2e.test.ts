// The kernel as JupyterLab sees it: @jupyterlab/services talking to Debian's jupyter_server,
// which finds the kernelspec our installer wrote and starts the kernel through jupyter_client.
import { KernelManager, KernelSpecAPI, ServerConnection } from "@jupyterlab/services";
import type { Kernel, KernelMessage } from "@jupyterlab/services";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jupyterEnv, startJupyterServer, type JupyterEnv, type JupyterServer } from "./jupyter-env.ts";
import { describeWith, hasTools } from "../system-tools.ts";
import { labSettings } from "./lab-settings.ts";

let je: JupyterEnv;
let server: JupyterServer;
let settings: ServerConnection.ISettings;
let manager: KernelManager;
let kernel: Kernel.IKernelConnection;

beforeAll(async () => {
  if (!hasTools("jupyter_server")) return; // the suite below is left out
  je = jupyterEnv();
  server = await startJupyterServer(je);
  settings = labSettings(server);
  manager = new KernelManager({ serverSettings: settings });
  kernel = await manager.startNew({ name: "charm4ts" });
  // Resolves once the websocket is up and the kernel answered its first kernel_info.
  await kernel.info;
}, 60_000);

afterAll(async () => {
  await kernel?.shutdown().catch(() => {});
  manager?.dispose();
  await server?.stop();
  je?.cleanup();
}, 60_000);

/** Runs code and collects its iopub messages until the reply. */
async function run(code: string): Promise<{ reply: KernelMessage.IExecuteReplyMsg; iopub: KernelMessage.IIOPubMessage[] }> {
  const iopub: KernelMessage.IIOPubMessage[] = [];
  const future = kernel.requestExecute({ code });
  future.onIOPub = (m) => void iopub.push(m);
  const reply = (await future.done) as KernelMessage.IExecuteReplyMsg;
  return { reply, iopub };
}

describeWith("jupyter_server")("through jupyter_server and @jupyterlab/services", () => {
  it("lists the kernelspec with its display name and language", async () => {
    const specs = await KernelSpecAPI.getSpecs(settings);
    expect(specs.kernelspecs.charm4ts).toMatchObject({ display_name: "TypeScript (charm4ts)", language: "typescript" });
  });

  it("answers kernel_info", async () => {
    const info = await kernel.requestKernelInfo();
    expect(info?.content).toMatchObject({ status: "ok", implementation: "charm4ts", language_info: { name: "typescript" } });
  });

  it("runs cells whose declarations persist, with outputs before the reply", async () => {
    await run("const base: number = 40;");
    const { reply, iopub } = await run('console.log("from a cell"); base + 2');
    expect(reply.content.status).toBe("ok");
    const types = iopub.map((m) => m.header.msg_type);
    expect(types).toEqual(expect.arrayContaining(["execute_input", "stream", "execute_result"]));
    const result = iopub.find((m) => m.header.msg_type === "execute_result") as KernelMessage.IExecuteResultMsg;
    expect(result.content.data["text/plain"]).toBe("42");
  });

  it("reports errors as an error reply with one error message", async () => {
    const { reply, iopub } = await run('throw new RangeError("out of range")');
    expect(reply.content).toMatchObject({ status: "error", ename: "RangeError", evalue: "out of range" });
    expect(iopub.filter((m) => m.header.msg_type === "error")).toHaveLength(1);
  });

  it("completes, inspects and checks completeness", async () => {
    const complete = await kernel.requestComplete({ code: "Math.fl", cursor_pos: 7 });
    expect(complete.content).toMatchObject({ status: "ok", cursor_end: 7 });
    expect((complete.content as KernelMessage.ICompleteReplyMsg["content"] & { matches: string[] }).matches).toContain("floor");
    const inspect = await kernel.requestInspect({ code: "Math.max", cursor_pos: 6, detail_level: 0 });
    expect(inspect.content).toMatchObject({ status: "ok", found: true });
    const isComplete = await kernel.requestIsComplete({ code: "function f() {" });
    expect(isComplete.content.status).toBe("incomplete");
  });

  it("interrupts a looping cell through the server (SIGINT from jupyter_client)", async () => {
    const iopub: KernelMessage.IIOPubMessage[] = [];
    let started!: () => void;
    const spinning = new Promise<void>((r) => (started = r));
    const future = kernel.requestExecute({ code: 'console.log("spinning"); while (true) {}' });
    future.onIOPub = (m) => {
      iopub.push(m);
      if (m.header.msg_type === "stream") started();
    };
    await spinning;
    await kernel.interrupt();
    const reply = await future.done;
    expect(reply.content.status).toBe("error");
    const { reply: after } = await run("base");
    expect(after.content.status).toBe("ok");
  });

  it("restarts: a fresh kernel that no longer knows old declarations", async () => {
    await kernel.restart();
    const { reply } = await run("typeof base");
    expect(reply.content.status).toBe("ok");
    const { iopub } = await run("1 + 1");
    expect(iopub.some((m) => m.header.msg_type === "execute_result")).toBe(true);
  });
});
