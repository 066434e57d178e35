/**
 * Raw ZeroMQ floors between two processes, measured in the same run as the transport's figures:
 * PUSH→PULL each way on loopback TCP (the socket pattern ZmqTransport uses), no serialization.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import * as zmq from "zeromq";

// The peer: binds a PULL, prints its address, connects a PUSH back to the address it reads;
// "echo" sends every message back, "count" answers once `total` (the first frame) have arrived.
const PEER = `
const zmq = require(process.env.CHARM4TS_ZMQ);
const mode = process.argv[1];
(async () => {
  const pull = new zmq.Pull({ linger: 0 });
  await pull.bind("tcp://127.0.0.1:*");
  console.log(pull.lastEndpoint);
  const back = await new Promise((r) => process.stdin.once("data", (d) => r(String(d).trim())));
  const push = new zmq.Push({ linger: 0 });
  push.connect(back);
  let n = 0;
  for await (const frames of pull) {
    if (mode === "echo") await push.send(frames);
    else if (++n === Number(frames[0])) { await push.send("done"); n = 0; }
  }
})();`;

interface Peer {
  push: zmq.Push;
  pull: zmq.Pull;
  child: ChildProcess;
}

async function withPeer<T>(mode: "echo" | "count", run: (peer: Peer) => Promise<T>): Promise<T> {
  const child = spawn(process.execPath, ["-e", PEER, mode], {
    env: { ...process.env, CHARM4TS_ZMQ: createRequire(import.meta.url).resolve("zeromq") },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const address = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once("line", resolve));
  const pull = new zmq.Pull({ linger: 0 });
  await pull.bind("tcp://127.0.0.1:*");
  child.stdin!.write(`${pull.lastEndpoint}\n`);
  const push = new zmq.Push({ linger: 0 });
  push.connect(address);
  try {
    return await run({ push, pull, child });
  } finally {
    push.close();
    pull.close();
    child.kill();
  }
}

/** Round trip of one small message to another process and back, in µs. */
export function rawZmqRoundTrip(iters: number): Promise<number> {
  return withPeer("echo", async ({ push, pull }) => {
    for (let i = 0; i < 200; i++) { await push.send("w"); await pull.receive(); } // connect and warm up
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) {
      await push.send("x");
      await pull.receive();
    }
    return ((performance.now() - t0) * 1000) / iters;
  });
}

/** One-way small messages per second to another process (each sent as its own ZeroMQ message). */
export function rawZmqThroughput(count: number): Promise<number> {
  return withPeer("count", async ({ push, pull }) => {
    const total = String(count);
    await push.send(["1"]); // warm up: the connection is up once "done" comes back
    await pull.receive();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await push.send(total);
    await pull.receive();
    return count / ((performance.now() - t0) / 1000);
  });
}

/** One-way bandwidth of 1 MiB messages to another process, in GB/s. */
export function rawZmqBandwidth(count: number): Promise<number> {
  return withPeer("count", async ({ push, pull }) => {
    const total = Buffer.from(String(count));
    await push.send(["1"]);
    await pull.receive();
    const t0 = performance.now();
    // A fresh buffer each time, as the runtime sends a fresh copy of each argument.
    for (let i = 0; i < count; i++) await push.send([total, Buffer.allocUnsafeSlow(1 << 20).fill(i)]);
    await pull.receive();
    return (count * (1 << 20)) / ((performance.now() - t0) / 1000) / 1e9;
  });
}
