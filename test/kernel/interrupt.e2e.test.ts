// A cell that never yields: the kernel's sockets stay live, interrupt (message and SIGINT) stops
// it with the kernel's state kept, and shutdown leaves no process behind.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { spawn } from "node:child_process";
import { endpoint, newConnection } from "../../kernel/protocol/connection.ts";
import type { Exchange, Msg } from "../../kernel/runner/client.ts";
import { kernelScript, launchKernel, type LaunchedKernel } from "../../kernel/runner/launch.ts";
import { ROOT } from "./jupyter-env.ts";
import { gone } from "../runtime/alive.ts";

let k: LaunchedKernel;

beforeAll(async () => {
  if (!existsSync(kernelScript())) throw new Error(`${kernelScript()} is missing: run \`npm run build\``);
  k = await launchKernel();
});

afterAll(async () => {
  await k?.shutdown();
});

/** Starts a cell that prints "spinning" (the executor posts it at once), then never finishes. */
async function startSpinning(code = "while (true) {}"): Promise<{ done: Promise<Exchange> }> {
  let started!: () => void;
  const spinning = new Promise<void>((r) => (started = r));
  const onIopub = (m: Msg) => {
    if (m.header.msg_type === "stream" && String(m.content.text).includes("spinning")) started();
  };
  const done = k.client.execute(`console.log("spinning"); ${code}`, {}, onIopub);
  await spinning;
  // Wrapped: an async function returning the promise itself would wait for the cell to end.
  return { done };
}


function expectInterrupted(x: Exchange): void {
  expect(x.reply.content.status).toBe("error");
  expect(x.iopub.filter((m) => m.header.msg_type === "error")).toHaveLength(1);
}

describe("a cell in a synchronous loop", () => {
  it("keeps heartbeat and control answering; message-mode interrupt stops it, state kept", async () => {
    expect((await k.client.execute("let kept = 41; kept += 1")).reply.content.status).toBe("ok");
    const { done } = await startSpinning();

    const hb = new zmq.Request({ linger: 0 });
    onTestFinished(() => hb.close());
    hb.connect(endpoint(k.connection, "hb"));
    await hb.send("ping");
    expect((await hb.receive())[0]!.toString()).toBe("ping");

    const info = await k.client.request("control", "kernel_info_request", {});
    expect(info.reply.content.status).toBe("ok");

    const interrupted = await k.client.request("control", "interrupt_request", {});
    expect(interrupted.reply.content).toEqual({ status: "ok" });
    expectInterrupted(await done);

    const after = await k.client.execute("kept");
    expect(after.iopub.find((m) => m.header.msg_type === "execute_result")?.content.data).toMatchObject({ "text/plain": "42" });
  });

  it("SIGINT to the process group stops it; the kernel survives with its state", async () => {
    const { done } = await startSpinning();
    // What jupyter_client does with interrupt_mode "signal": SIGINT to the kernel's whole process group.
    process.kill(-k.process.pid!, "SIGINT");
    expectInterrupted(await done);
    expect(k.process.exitCode).toBeNull();
    const after = await k.client.execute("kept + 1");
    expect(after.iopub.find((m) => m.header.msg_type === "execute_result")?.content.data).toMatchObject({ "text/plain": "43" });
  });

  it("interrupt also stops an await that would never resolve", async () => {
    const { done } = await startSpinning("await new Promise(() => {});");
    await k.client.request("control", "interrupt_request", {});
    expectInterrupted(await done);
  });

  it("SIGINT while idle is harmless", async () => {
    process.kill(-k.process.pid!, "SIGINT");
    const x = await k.client.execute("1 + 1");
    expect(x.reply.content.status).toBe("ok");
  });
});

describe("shutdown", () => {
  it("replies with restart, publishes shutdown_reply, exits 0 and leaves no process in its group", async () => {
    const own = await launchKernel();
    onTestFinished(() => own.shutdown());
    const pid = own.process.pid!;
    const x = await own.client.request("control", "shutdown_request", { restart: true });
    expect(x.reply.content).toEqual({ status: "ok", restart: true });
    expect(x.iopub.map((m) => m.header.msg_type)).toContain("shutdown_reply");
    expect(await own.exited).toEqual({ code: 0, signal: null });
    // The group is gone: no worker, no child process survived the kernel.
    expect(() => process.kill(-pid, 0)).toThrow(/ESRCH/);
  });

  it("shutdown on the shell channel works the same", async () => {
    const own = await launchKernel();
    onTestFinished(() => own.shutdown());
    const x = await own.client.request("shell", "shutdown_request", { restart: false });
    expect(x.reply.header.msg_type).toBe("shutdown_reply");
    expect(x.reply.content).toEqual({ status: "ok", restart: false });
    expect(await own.exited).toEqual({ code: 0, signal: null });
  });

  it("shutdown while a cell loops still exits promptly", async () => {
    const own = await launchKernel();
    onTestFinished(() => own.shutdown());
    let started!: () => void;
    const spinning = new Promise<void>((r) => (started = r));
    void own.client.execute('console.log("spinning"); while (true) {}', {}, (m) => {
      if (m.header.msg_type === "stream") started();
    });
    await spinning;
    const x = await own.client.request("control", "shutdown_request", { restart: false });
    expect(x.reply.content).toEqual({ status: "ok", restart: false });
    expect((await own.exited).code).toBe(0);
    expect(() => process.kill(-own.process.pid!, 0)).toThrow(/ESRCH/);
  });

  it("SIGTERM, also while a cell loops, exits 0: the heartbeat thread ends first, nothing aborts", async () => {
    // Exiting while the heartbeat thread's socket waits to receive would abort (zeromq.js#411).
    for (const spin of [false, true]) {
      const own = await launchKernel();
      onTestFinished(() => own.shutdown());
      if (spin) void own.client.execute("while (true) {}");
      own.process.kill("SIGTERM");
      expect(await own.exited).toEqual({ code: 0, signal: null });
      expect(own.stderr()).not.toMatch(/terminate called|Aborted|didn't stop/);
    }
  });
});

/** How many threads a process has now. */
function threadsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).length;
}

describe("a cell that exhausts memory", () => {
  it("ends only the executor: the cell fails, the kernel says state is lost and runs new cells", async () => {
    const own = await launchKernel({ env: { ...process.env, CHARM4TS_MAX_HEAP_MB: "64" } });
    onTestFinished(() => own.shutdown());
    const iopub: Msg[] = [];
    own.client.listen((m) => {
      if (m.channel === "iopub") iopub.push(m);
    });
    const usePes = "class Pinger extends Chare { ping() { return 1; } }\nawait charm.array(Pinger, 2).ping.ret()";
    await own.client.execute("const before = 1;");
    expect((await own.client.execute(usePes)).reply.content.status).toBe("ok");
    const threadsBefore = threadsOf(own.process.pid!);
    const hog = await own.client.execute("const hog: number[][] = []; while (true) hog.push(new Array(1e5).fill(1));");
    expect(hog.reply.content.status).toBe("error");
    // The notice is published before the next cell can start, so it has arrived by its idle.
    const next = await own.client.execute("typeof before");
    expect(next.reply.content.status).toBe("ok");
    expect(next.iopub.find((m) => m.header.msg_type === "execute_result")?.content.data).toMatchObject({ "text/plain": "'undefined'" });
    // The new executor has PEs of its own; the old one's PE threads (started by the kernel's main
    // thread, runtime/pe/prestart.ts) ended with it rather than lingering.
    expect((await own.client.execute(usePes)).reply.content.status).toBe("ok");
    expect(threadsOf(own.process.pid!)).toBeLessThanOrEqual(threadsBefore);
    const notice = iopub.find((m) => m.header.msg_type === "stream" && String(m.content.text).includes("cell executor stopped"));
    expect(notice?.content.name).toBe("stderr");
    expect(own.process.exitCode).toBeNull();
  });
});

describe("orphaned kernels", () => {
  it("a kernel whose launcher died shuts itself down", async () => {
    // A launcher that starts a kernel, waits for its heartbeat, and dies. The kernel inherits
    // the stderr pipe, so the pipe closes only when the kernel has exited too.
    const info = { ...(await newConnection()), key: "k" };
    const dir = mkdtempSync(join(tmpdir(), "charm4ts-orphan-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "kernel.json");
    const launcher = `
      const { spawn } = require("node:child_process");
      const { writeFileSync } = require("node:fs");
      const zmq = require("zeromq");
      const file = ${JSON.stringify(file)};
      writeFileSync(file, ${JSON.stringify(JSON.stringify(info))}, { mode: 0o600 });
      const kernel = spawn(process.execPath, [${JSON.stringify(kernelScript())}, "-f", file], { stdio: ["ignore", "ignore", "inherit"], detached: true });
      process.stdout.write(String(kernel.pid));
      const hb = new zmq.Request();
      hb.connect(${JSON.stringify(endpoint(info, "hb"))});
      hb.send("ping").then(() => hb.receive()).then(() => process.kill(process.pid, "SIGKILL"));
    `;
    const child = spawn(process.execPath, ["-e", launcher], { stdio: ["ignore", "pipe", "pipe"], cwd: ROOT });
    let pid = "";
    child.stdout.on("data", (d) => (pid += d));
    let log = "";
    child.stderr.on("data", (d) => (log += d));
    await new Promise((r) => child.stderr.once("close", r));
    expect(log).toMatch(/launcher \(pid \d+\) is gone: shutting down/);
    // Reparented to a PID 1 that may not reap: an exited kernel is gone or a zombie.
    expect(gone(Number(pid))).toBe(true);
  });
});

describe("unsigned kernels", () => {
  it("an empty key means unsigned messages, and the kernel works", async () => {
    const own = await launchKernel({ key: "" });
    onTestFinished(() => own.shutdown());
    const x = await own.client.execute("2 + 3");
    expect(x.reply.content.status).toBe("ok");
  });
});
