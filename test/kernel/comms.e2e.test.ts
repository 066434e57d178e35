// Comms through the real kernel over ZeroMQ: a frontend's comms to targets a cell registered,
// handled while another cell is still running; comms a cell opens; comm_info; and comm messages
// with any content, which never take the kernel down.
import { existsSync } from "node:fs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { withTimeout, type Exchange, type Msg } from "../../kernel/runner/client.ts";
import { kernelScript, launchKernel, type LaunchedKernel } from "../../kernel/runner/launch.ts";
import { frontendComms } from "./frontend-comms.ts";

let k: LaunchedKernel;
let next: ReturnType<typeof frontendComms>["next"];
let comm: ReturnType<typeof frontendComms>["comm"];

beforeAll(async () => {
  if (!existsSync(kernelScript())) throw new Error(`${kernelScript()} is missing: run \`npm run build\``);
  k = await launchKernel();
  ({ next, comm } = frontendComms(k));
  const x = await k.client.execute(`
    comms.register("echo", (comm, open) => {
      comm.send({ opened: open.data });
      comm.onMsg((m) => {
        if (m.data.fail) throw new Error("handler failed on purpose");
        if (m.data.spin) {
          comm.send({ spinning: true });
          while (true) {}
        }
        const bytes = m.buffers[0] ?? new Uint8Array();
        comm.send({ echo: m.data, sum: bytes.reduce((a, b) => a + b, 0) }, { seen: true }, [new Uint8Array(bytes).reverse()]);
      });
      comm.onClose((m) => console.log("echo closed:", JSON.stringify(m.data)));
    });
  `);
  expect(x.reply.content.status).toBe("ok");
  // The cell globals declare comms: the cell type-checks (a type error would be stderr output).
  expect(x.iopub.filter((m) => m.header.msg_type === "stream")).toEqual([]);
});

afterAll(async () => {
  await k?.shutdown();
});

/** Starts a cell that prints, then awaits a 5 s timer; resolves once it printed (it is running). */
async function startLongCell(): Promise<{ done: Promise<Exchange>; finished: () => boolean }> {
  let finished = false;
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const done = k.client.execute('console.log("cell started"); await new Promise((r) => setTimeout(r, 5000)); "cell done"', {}, (m) => {
    if (m.header.msg_type === "stream" && String(m.content.text).includes("cell started")) started();
  });
  void done.then(() => (finished = true));
  await withTimeout(running, 10_000, "waiting for the long cell to start");
  return { done, finished: () => finished };
}

describe("comms while a cell runs", () => {
  it("a frontend's comm to a registered target round-trips data and buffers before the running cell replies", async () => {
    const cell = await startLongCell();

    const open = await comm("comm_open", { comm_id: "c1", target_name: "echo", data: { hello: 1 } });
    const types = open.iopub.map((m) => `${m.header.msg_type}:${m.content.execution_state ?? ""}`);
    expect(types).toEqual(["status:busy", "comm_msg:", "status:idle"]);
    expect(open.iopub[1]!.content).toEqual({ comm_id: "c1", data: { opened: { hello: 1 } } });
    expect(cell.finished()).toBe(false);

    for (let i = 0; i < 5; i++) {
      const x = await comm("comm_msg", { comm_id: "c1", data: { i } }, [Buffer.from([i, 1, 2, 3])]);
      const reply = x.iopub.find((m) => m.header.msg_type === "comm_msg")!;
      expect(reply.content).toEqual({ comm_id: "c1", data: { echo: { i }, sum: i + 6 } });
      expect(reply.metadata).toEqual({ seen: true });
      expect(reply.buffers?.map((b) => [...b])).toEqual([[3, 2, 1, i]]);
      // Every reply is a child of the frontend's message, inside its busy … idle.
      expect(reply.parent_header.msg_id).toBe(x.id);
      expect(x.iopub.at(0)?.content.execution_state).toBe("busy");
      expect(x.iopub.at(-1)?.content.execution_state).toBe("idle");
      expect(cell.finished(), `reply ${i} came after the cell's execute_reply`).toBe(false);
    }

    const info = await k.client.request("shell", "comm_info_request", { target_name: "echo" });
    expect(info.reply.content).toEqual({ status: "ok", comms: { c1: { target_name: "echo" } } });
    expect(cell.finished(), "comm_info waited for the cell").toBe(false);

    // The close handler's console.log goes to the cell that is running.
    const closed = await comm("comm_close", { comm_id: "c1", data: { reason: "done" } });
    expect(closed.iopub.map((m) => m.header.msg_type)).toEqual(["status", "status"]);
    expect(cell.finished()).toBe(false);

    const x = await cell.done;
    expect(x.reply.content.status).toBe("ok");
    const printed = x.iopub.filter((m) => m.header.msg_type === "stream").map((m) => m.content.text).join("");
    expect(printed).toContain('echo closed: {"reason":"done"}');
    const after = await k.client.request("shell", "comm_info_request", {});
    expect(after.reply.content).toEqual({ status: "ok", comms: {} });
  }, 30_000);

  it("a handler that throws is reported on the running cell's stderr; the comm and the kernel carry on", async () => {
    await comm("comm_open", { comm_id: "c2", target_name: "echo", data: {} });
    const cell = await startLongCell();
    await comm("comm_msg", { comm_id: "c2", data: { fail: true } });
    const x = await comm("comm_msg", { comm_id: "c2", data: { after: 1 } }, [Buffer.from([5])]);
    expect(x.iopub.find((m) => m.header.msg_type === "comm_msg")?.content).toEqual({ comm_id: "c2", data: { echo: { after: 1 }, sum: 5 } });
    expect(cell.finished()).toBe(false);
    const done = await cell.done;
    expect(done.reply.content.status).toBe("ok");
    const stderr = done.iopub.filter((m) => m.header.msg_type === "stream" && m.content.name === "stderr").map((m) => m.content.text).join("");
    expect(stderr).toContain("handler failed on purpose");
    expect(stderr).toContain('the message handler of comm c2 ("echo")');
    await comm("comm_close", { comm_id: "c2" });
  }, 30_000);

  it("a handler that throws while no cell runs is logged", async () => {
    await comm("comm_open", { comm_id: "c3", target_name: "echo", data: {} });
    await comm("comm_msg", { comm_id: "c3", data: { fail: true } });
    await withTimeout(k.waitForStderr(/the message handler of comm c3 \("echo"\) failed: Error: handler failed on purpose/), 10_000, "the log line");
    await comm("comm_close", { comm_id: "c3" });
  });
});

describe("a comm handler stuck in a loop", () => {
  /** Sends a comm_msg whose handler announces itself and then loops; resolves once it loops. */
  async function spin(commId: string): Promise<{ idle: Promise<Msg> }> {
    const header = k.client.header("comm_msg");
    const spinning = next("the handler to start spinning", (m) => m.header.msg_type === "comm_msg" && m.parent_header.msg_id === header.msg_id);
    const idle = next("the idle of the stuck comm_msg", (m) => m.parent_header.msg_id === header.msg_id && m.content.execution_state === "idle", 20_000);
    k.client.sendRaw("shell", header, {}, { comm_id: commId, data: { spin: true } });
    await spinning;
    return { idle };
  }

  it("is stopped by an interrupt while a cell awaits: the cell is interrupted, the comm lane carries on", async () => {
    await comm("comm_open", { comm_id: "s1", target_name: "echo", data: {} });
    const cell = await startLongCell();
    const stuck = await spin("s1");
    await k.client.request("control", "interrupt_request", {});
    const x = await withTimeout(cell.done, 20_000, "waiting for the interrupted cell's reply");
    expect(x.reply.content).toMatchObject({ status: "error", ename: "Interrupted" });
    const stderr = x.iopub.filter((m) => m.header.msg_type === "stream" && m.content.name === "stderr").map((m) => m.content.text).join("");
    expect(stderr).toContain('the message handler of comm s1 ("echo")');
    expect(stderr).toContain("stopped by an interrupt");
    await stuck.idle;
    const after = await comm("comm_msg", { comm_id: "s1", data: { after: 1 } });
    expect(after.iopub.find((m) => m.header.msg_type === "comm_msg")?.content.data).toEqual({ echo: { after: 1 }, sum: 0 });
    await comm("comm_close", { comm_id: "s1" });
  }, 40_000);

  it("is stopped by an interrupt while no cell runs; it is logged and the kernel serves cells again", async () => {
    await comm("comm_open", { comm_id: "s2", target_name: "echo", data: {} });
    const stuck = await spin("s2");
    await k.client.request("control", "interrupt_request", {});
    await stuck.idle;
    await withTimeout(k.waitForStderr(/the message handler of comm s2 \("echo"\) failed: Error: stopped by an interrupt/), 10_000, "the log line");
    const after = await comm("comm_msg", { comm_id: "s2", data: { after: 2 } });
    expect(after.iopub.find((m) => m.header.msg_type === "comm_msg")?.content.data).toEqual({ echo: { after: 2 }, sum: 0 });
    const cell = await k.client.execute("40 + 2");
    expect(cell.iopub.find((m) => m.header.msg_type === "execute_result")?.content.data).toMatchObject({ "text/plain": "42" });
    await comm("comm_close", { comm_id: "s2" });
  }, 40_000);
});

describe("comms a cell opens", () => {
  it("are published under the execute, carry metadata and buffers, hear the frontend, and close", async () => {
    const opening = await k.client.execute(`
      const probe: Comm = comms.open("frontend.probe", { hello: "frontend" }, { version: "1" }, [new Float64Array([1.5, -2])]);
      probe.onMsg((m: CommMessage<{ ping: number }>) => probe.send({ back: m.data, bytes: m.buffers.map((b) => b.length) }));
      probe.id
    `);
    expect(opening.reply.content.status).toBe("ok");
    expect(opening.iopub.filter((m) => m.header.msg_type === "stream")).toEqual([]);
    const open = opening.iopub.find((m) => m.header.msg_type === "comm_open")!;
    const id = String(open.content.comm_id);
    expect(opening.iopub.find((m) => m.header.msg_type === "execute_result")?.content.data).toMatchObject({ "text/plain": `'${id}'` });
    expect(open.parent_header.msg_id).toBe(opening.request.msg_id);
    expect(open.content).toEqual({ comm_id: id, target_name: "frontend.probe", data: { hello: "frontend" } });
    expect(open.metadata).toEqual({ version: "1" });
    expect([...new Float64Array(new Uint8Array(open.buffers![0]!).buffer)]).toEqual([1.5, -2]);

    const info = await k.client.request("shell", "comm_info_request", {});
    expect(info.reply.content.comms).toEqual({ [id]: { target_name: "frontend.probe" } });

    const x = await comm("comm_msg", { comm_id: id, data: { ping: 1 } }, [Buffer.alloc(3), Buffer.alloc(0)]);
    const answer = x.iopub.find((m) => m.header.msg_type === "comm_msg")!;
    expect(answer.content).toEqual({ comm_id: id, data: { back: { ping: 1 }, bytes: [3, 0] } });
    expect(answer.parent_header.msg_id).toBe(x.id);

    const closing = await k.client.execute('probe.close({ bye: true }); probe.closed');
    const close = closing.iopub.find((m) => m.header.msg_type === "comm_close")!;
    expect(close.content).toEqual({ comm_id: id, data: { bye: true } });
    expect(close.parent_header.msg_id).toBe(closing.request.msg_id);
    const after = await k.client.request("shell", "comm_info_request", {});
    expect(after.reply.content.comms).toEqual({});
  });

  it("bad arguments fail in the cell, naming what to pass", async () => {
    const x = await k.client.execute('comms.open("t", [1, 2] as never)');
    expect(x.reply.content).toMatchObject({ status: "error", ename: "TypeError" });
    expect(String(x.reply.content.evalue)).toContain("comms.open: data must be a JSON object");
    const y = await k.client.execute('comms.open("t", { n: 1n } as never)');
    expect(String(y.reply.content.evalue)).toContain("comms.open: data can't be sent as JSON");
    const z = await k.client.execute('comms.register("", () => {})');
    expect(String(z.reply.content.evalue)).toContain("comms.register: the target name must be a non-empty string");
    // The declarations are checked: a wrong argument type is reported with the cell (which runs anyway).
    const typed = await k.client.execute("comms.unregister(42)");
    const report = typed.iopub.filter((m) => m.header.msg_type === "stream").map((m) => m.content.text).join("");
    expect(report).toMatch(/TS2345: Argument of type 'number' is not assignable to parameter of type 'string'/);
  });
});

describe("unknown and malformed comm messages", () => {
  it("a comm_open for an unregistered target is closed on iopub; messages for unknown comms are logged and ignored", async () => {
    const open = await comm("comm_open", { comm_id: "nobody-1", target_name: "nobody", data: {} });
    expect(open.iopub.map((m) => m.header.msg_type)).toEqual(["status", "comm_close", "status"]);
    expect(open.iopub[1]!.content).toEqual({ comm_id: "nobody-1", data: {} });
    const ghost = await comm("comm_msg", { comm_id: "ghost", data: {} });
    expect(ghost.iopub.map((m) => m.header.msg_type)).toEqual(["status", "status"]);
    await withTimeout(k.waitForStderr(/comm_msg for comm ghost, which is not open: ignored/), 10_000, "the log line");
  });

  it("fuzz: comm messages with arbitrary content never crash the kernel", async () => {
    const ids = fc.constantFrom("c-fuzz", "ghost", "", 7, null);
    const content = fc.oneof(
      fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 })),
      fc.record({ comm_id: ids, target_name: fc.oneof(fc.constantFrom("echo", "nobody"), fc.jsonValue({ maxDepth: 1 })), data: fc.jsonValue({ maxDepth: 3 }) }),
      fc.record({ comm_id: ids, data: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: ["comm_id"] }),
    );
    const message = fc.record({
      msgType: fc.constantFrom("comm_open", "comm_msg", "comm_close"),
      content,
      metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
      buffers: fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 3 }),
    });
    const batch = fc.sample(message, { numRuns: 300, seed: 13 });
    for (const m of batch) {
      k.client.sendRaw("shell", k.client.header(m.msgType), {}, m.content, { metadata: m.metadata, buffers: m.buffers.map((b) => Buffer.from(b)) });
    }
    // comm_info is served in the comm lane after every message sent before it.
    const info = await k.client.request("shell", "comm_info_request", {});
    expect(info.reply.content.status).toBe("ok");
    const kernelInfo = await k.client.request("shell", "kernel_info_request", {});
    expect(kernelInfo.reply.content.status).toBe("ok");
    const cell = await k.client.execute("6 * 7");
    expect(cell.iopub.find((m) => m.header.msg_type === "execute_result")?.content.data).toMatchObject({ "text/plain": "42" });
    expect(k.stderr()).not.toMatch(/uncaught/i);
  }, 60_000);
});

describe("an executor that dies", () => {
  it("takes its comms along: each is closed on iopub, comm_info is empty, and a message for one is ignored", async () => {
    const own = await launchKernel({ env: { ...process.env, CHARM4TS_MAX_HEAP_MB: "64" } });
    onTestFinished(() => own.shutdown());
    const opened = await own.client.execute('const kept = comms.open("frontend.kept"); kept.id');
    const id = String(opened.iopub.find((m) => m.header.msg_type === "comm_open")?.content.comm_id);
    const closed = new Promise<Msg>((resolve) => {
      own.client.listen((m) => {
        if (m.header.msg_type === "comm_close" && m.content.comm_id === id) resolve(m);
      });
    });
    const hog = await own.client.execute("const hog: number[][] = []; while (true) hog.push(new Array(1e5).fill(1));");
    expect(hog.reply.content.status).toBe("error");
    // Published with the notice that state is lost, once the worker's exit is seen.
    expect((await withTimeout(closed, 10_000, "the dead executor's comm to be closed")).content).toEqual({ comm_id: id, data: {} });
    const info = await own.client.request("shell", "comm_info_request", {});
    expect(info.reply.content.comms).toEqual({});
    const header = own.client.header("comm_msg");
    own.client.sendRaw("shell", header, {}, { comm_id: id, data: {} });
    await withTimeout(own.waitForStderr(new RegExp(`comm_msg for comm ${id}, which is not open: ignored`)), 10_000, "the log line");
  }, 60_000);
});
