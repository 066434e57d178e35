// Shutting the real kernel down after a cell moved its PEs into processes: the cell thread drives
// the runtime over ZeroMQ, and a ZeroMQ socket still receiving when its thread ends aborts the
// kernel ("terminate called after throwing an instance of 'Napi::Error'", zeromq.js#411). Every
// way Jupyter ends a kernel — shutdown_request, a restart, SIGTERM, also while a cell loops —
// must exit 0, with no native error, and leave no PE process behind — nor anything in the temp folder.
import { readdirSync } from "node:fs";
import { describe, expect, it, onTestFinished } from "vitest";
import { launchKernel, type LaunchedKernel } from "../../kernel/runner/launch.ts";
import { gone } from "../runtime/alive.ts";
import { tempDir } from "../temp-dir.ts";

const NATIVE_ERROR = /terminate called|Napi::Error|Aborted|core dumped/;

/** Restarts the kernel's runtime on `transport` (3 PEs) and returns the pid of each PE's process. */
async function restartOn(k: LaunchedKernel, transport: "processes" | "mixed"): Promise<number[]> {
  const x = await k.client.execute(`
    await charm.restart({ transport: "${transport}", numPes: 3 });
    await Promise.all([0, 1, 2].map((pe) => charm.chare(Pid, [], { onPe: pe }).pid.ret()));`);
  expect(x.reply.content.status, JSON.stringify(x.reply.content)).toBe("ok");
  const result = x.iopub.find((m) => m.header.msg_type === "execute_result");
  // Shown as an array ("[ 4211, 4212, 4213 ]").
  return (String((result?.content.data as Record<string, string> | undefined)?.["text/plain"]).match(/\d+/g) ?? []).map(Number);
}

/** A kernel whose runtime ran on PE processes, then on `final`; returns it and the PE processes' pids. */
async function kernelAfter(final: "processes" | "mixed", env?: NodeJS.ProcessEnv): Promise<{ k: LaunchedKernel; pids: number[] }> {
  const k = await launchKernel({ env });
  onTestFinished(() => k.shutdown());
  const declared = await k.client.execute("class Pid extends Chare { pid() { return process.pid; } }");
  expect(declared.reply.content.status).toBe("ok");
  const pids = await restartOn(k, "processes");
  if (final === "mixed") pids.push(...await restartOn(k, "mixed"));
  // The kernel's own pid is a mixed runtime's PE threads: only PE processes are checked below.
  return { k, pids: pids.filter((pid) => pid !== k.process.pid) };
}


async function expectCleanExit(k: LaunchedKernel, pids: number[]): Promise<void> {
  expect(await k.exited).toEqual({ code: 0, signal: null });
  expect(k.stderr()).not.toMatch(NATIVE_ERROR);
  expect(pids.length).toBeGreaterThan(0);
  expect(pids.filter((pid) => !gone(pid))).toEqual([]);
}

describe("shutting down a kernel whose PEs were processes", () => {
  it("shutdown_request after restarts on processes, then mixed: exit 0, no native error, no PE process left", async () => {
    const { k, pids } = await kernelAfter("mixed");
    const x = await k.client.request("control", "shutdown_request", { restart: false });
    expect(x.reply.content).toEqual({ status: "ok", restart: false });
    await expectCleanExit(k, pids);
  }, 90_000);

  it("shutdown_request with restart (Jupyter's kernel restart) on processes: exit 0, no native error", async () => {
    const { k, pids } = await kernelAfter("processes");
    const x = await k.client.request("control", "shutdown_request", { restart: true });
    expect(x.reply.content).toEqual({ status: "ok", restart: true });
    await expectCleanExit(k, pids);
  }, 90_000);

  it("SIGTERM after restarts on processes, then mixed: exit 0, no native error", async () => {
    const { k, pids } = await kernelAfter("mixed");
    k.process.kill("SIGTERM");
    await expectCleanExit(k, pids);
  }, 90_000);

  it("SIGTERM while a cell loops, on processes: the cell is stopped, then the runtime; exit 0, no native error", async () => {
    const { k, pids } = await kernelAfter("processes");
    let started!: () => void;
    const spinning = new Promise<void>((resolve) => (started = resolve));
    void k.client.execute('console.log("spinning"); while (true) {}', {}, (m) => {
      if (m.header.msg_type === "stream") started();
    });
    await spinning;
    k.process.kill("SIGTERM");
    await expectCleanExit(k, pids);
  }, 90_000);

  it("leaves nothing in its temp folder: the kernel, its cells and its PE processes make no temp files of their own", async () => {
    // A temp folder of its own (TMPDIR, which the PE processes inherit), so other runs' files don't count.
    const tmp = tempDir("kernel-tmpdir");
    const { k, pids } = await kernelAfter("mixed", { ...process.env, TMPDIR: tmp });
    const x = await k.client.execute('console.log("a cell with output"); display.html("<b>shown</b>"); charm.numPes()');
    expect(x.reply.content.status, JSON.stringify(x.reply.content)).toBe("ok");
    await k.client.request("control", "shutdown_request", { restart: false });
    await expectCleanExit(k, pids);
    // The compile cache (runtime/launcher/compile.ts) would be the one thing allowed to stay.
    expect(readdirSync(tmp).filter((name) => name !== `charm4ts-${process.getuid?.()}`)).toEqual([]);
  }, 90_000);
});
