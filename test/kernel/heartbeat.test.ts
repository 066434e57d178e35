// The heartbeat thread: it echoes pings while the thread that started it (the kernel's main
// thread) is blocked, as it is while it checks and parses a huge message.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import * as zmq from "zeromq";
import { describe, expect, it, onTestFinished } from "vitest";
import { freePort } from "../../kernel/protocol/connection.ts";
import { withTimeout } from "../../kernel/runner/client.ts";
import { startHeartbeat } from "../../kernel/server/heartbeat.ts";

// A frontend's heartbeat on a thread of its own: pings once, then flips `flag` and wakes waiters.
const PINGER = `
const { workerData } = require("node:worker_threads");
const zmq = require(workerData.zeromq);
const ping = new zmq.Request({ linger: 0 });
ping.connect(workerData.endpoint);
ping.send("ping").then(() => ping.receive()).then(([pong]) => {
  Atomics.store(workerData.flag, 0, String(pong) === "ping" ? 1 : 2);
  Atomics.notify(workerData.flag, 0);
  ping.close();
});
`;

async function heartbeatOnFreePort() {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const hb = startHeartbeat(endpoint, 2 ** 20);
  onTestFinished(() => hb.close());
  await withTimeout(hb.ready, 10_000, "the heartbeat binding");
  return { endpoint, hb };
}

describe("heartbeat thread", () => {
  it("answers while the thread that started it is blocked", async () => {
    const { endpoint } = await heartbeatOnFreePort();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const zeromq = createRequire(import.meta.url).resolve("zeromq");
    const pinger = new Worker(PINGER, { eval: true, workerData: { zeromq, endpoint, flag } });
    // It ends by itself after the pong (terminating it while its socket waits would abort this process).
    const pingerExited = new Promise((resolve) => pinger.once("exit", resolve));
    // From here this thread runs no event loop until the pong came (or 10 s passed): an echo on
    // this thread, as the heartbeat used to be, could not happen.
    const outcome = Atomics.wait(flag, 0, 0, 10_000);
    expect(outcome).not.toBe("timed-out");
    expect(Atomics.load(flag, 0)).toBe(1);
    await withTimeout(pingerExited, 10_000, "the pinger ending");
  });

  it("refuses a taken port when asked whether it is ready", async () => {
    const { endpoint } = await heartbeatOnFreePort();
    const second = startHeartbeat(endpoint, 2 ** 20);
    onTestFinished(() => second.close());
    await expect(withTimeout(second.ready, 10_000, "the second heartbeat")).rejects.toThrow(`heartbeat on ${endpoint}:`);
  });

  it("close ends the thread and frees the port", async () => {
    const { endpoint, hb } = await heartbeatOnFreePort();
    await hb.close();
    const rebound = new zmq.Reply({ linger: 0 });
    onTestFinished(() => rebound.close());
    await rebound.bind(endpoint);
  });
});
