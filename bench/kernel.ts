// Kernel benchmarks: start-up to the first kernel_info_reply, a trivial cell's round trip and the
// memory of an idle kernel, each next to a floor measured in the same run.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { freePort, newConnection, writeConnectionFile } from "../kernel/protocol/connection.ts";
import { KernelClient } from "../kernel/runner/client.ts";
import { kernelScript, launchKernel } from "../kernel/runner/launch.ts";

import { medianOf, type Row } from "./row.ts";

export type { Row };


/** Milliseconds from spawning `node -e 0` to its exit: the cost of any Node process. */
export async function nodeStartMs(): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((r) => spawn(process.execPath, ["-e", "0"], { stdio: "ignore" }).once("exit", () => r()));
  return performance.now() - t0;
}

/**
 * Milliseconds from spawning a kernel to the reply of one first request (sent at once: the
 * DEALER queues it until the kernel's ROUTER is bound). Resolves with the reply's content too.
 */
export async function firstReplyMs(msgType: string, content: Record<string, unknown>): Promise<{ ms: number; reply: any }> {
  const dir = mkdtempSync(join(tmpdir(), "charm4ts-bench-"));
  const file = join(dir, "kernel.json");
  const info = await newConnection();
  writeConnectionFile(file, info);
  const client = KernelClient.connect(info);
  const t0 = performance.now();
  const child = spawn(process.execPath, [kernelScript(), "-f", file], { stdio: "ignore" });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const replyType = msgType.replace(/_request$/, "_reply");
  let replied!: (content: unknown) => void;
  const reply = new Promise<unknown>((r) => (replied = r));
  const stop = client.listen((m) => {
    if (m.header.msg_type === replyType) replied(m.content);
  });
  client.sendRaw("shell", client.header(msgType), {}, content);
  const answer = await reply;
  const ms = performance.now() - t0;
  stop();
  client.sendRaw("control", client.header("shutdown_request"), {}, { restart: false });
  await exited;
  client.close();
  rmSync(dir, { recursive: true, force: true });
  return { ms, reply: answer };
}

/** Milliseconds from spawning the kernel to receiving its first kernel_info_reply. */
async function kernelStartMs(): Promise<number> {
  return (await firstReplyMs("kernel_info_request", {})).ms;
}

/** p50 of a raw DEALER → ROUTER → DEALER round trip on loopback, in milliseconds. */
async function zmqRoundTripMs(n: number): Promise<number> {
  const port = await freePort();
  const router = new zmq.Router({ linger: 0 });
  await router.bind(`tcp://127.0.0.1:${port}`);
  const dealer = new zmq.Dealer({ linger: 0 });
  dealer.connect(`tcp://127.0.0.1:${port}`);
  const echo = (async () => {
    for await (const frames of router) await router.send(frames);
  })().catch(() => {});
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await dealer.send("x");
    await dealer.receive();
    times.push(performance.now() - t0);
  }
  dealer.close();
  router.close();
  await echo;
  return medianOf(times.slice(Math.floor(n / 10)));
}

/** Kernel benchmark rows for `npm run bench`. */
export async function kernelBenchmarks(): Promise<Row[]> {
  const rows: Row[] = [];
  const starts: number[] = [];
  const nodes: number[] = [];
  for (let i = 0; i < 5; i++) {
    nodes.push(await nodeStartMs());
    starts.push(await kernelStartMs());
  }
  rows.push({
    name: "kernel start to first kernel_info_reply (median of 5)",
    value: medianOf(starts) / 1000,
    unit: "s",
    floor: { name: "node -e 0 start to exit", value: medianOf(nodes) / 1000, unit: "s" },
    target: "≤ 0.4 s",
  });

  const k = await launchKernel();
  try {
    for (let i = 0; i < 50; i++) await k.client.execute("1");
    const times: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      await k.client.execute("1");
      times.push(performance.now() - t0);
    }
    rows.push({
      name: "trivial cell round trip (execute '1' to reply and idle), p50",
      value: medianOf(times),
      unit: "ms",
      floor: { name: "raw zeromq DEALER/ROUTER round trip, p50", value: await zmqRoundTripMs(2000), unit: "ms" },
      target: "≤ 3 ms",
    });
    // VmHWM: the peak resident set of the kernel process (main thread and executor worker).
    const status = readFileSync(`/proc/${k.process.pid}/status`, "utf8");
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    rows.push({ name: "peak RSS of an idle kernel (after 350 trivial cells)", value: peakKb / 1024, unit: "MiB" });
  } finally {
    await k.shutdown();
  }
  return rows;
}

