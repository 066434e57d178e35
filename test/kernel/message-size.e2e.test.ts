// The size limit on the kernel's sockets: a frame over CHARM4TS_MAX_MESSAGE_MB gets its sender
// disconnected by libzmq before it is buffered, so it is never checked, parsed or answered, and
// the kernel goes on serving everyone else.
import { existsSync } from "node:fs";
import * as zmq from "zeromq";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { endpoint } from "../../kernel/protocol/connection.ts";
import { Signer } from "../../kernel/protocol/signer.ts";
import { encodeFrames } from "../../kernel/protocol/wire.ts";
import { withTimeout, type Msg } from "../../kernel/runner/client.ts";
import { kernelScript, launchKernel, type LaunchedKernel } from "../../kernel/runner/launch.ts";

const MIB = 2 ** 20;
let k: LaunchedKernel;
const seen: Msg[] = [];

beforeAll(async () => {
  if (!existsSync(kernelScript())) throw new Error(`${kernelScript()} is missing: run \`npm run build\``);
  k = await launchKernel({ env: { ...process.env, CHARM4TS_MAX_MESSAGE_MB: "1" } });
  k.client.listen((m) => seen.push(m));
});

afterAll(async () => {
  await k?.shutdown();
});

/** A raw DEALER on one of the kernel's channels, with a promise of its first disconnection. */
async function rawPeer(channel: "shell" | "control" | "hb"): Promise<{ socket: zmq.Dealer; disconnected: Promise<void> }> {
  // No reconnection: once the kernel drops this peer, nothing it queued can reach the kernel later.
  const socket = new zmq.Dealer({ linger: 0, reconnectInterval: -1 });
  onTestFinished(() => socket.close());
  const connected = new Promise<void>((r) => socket.events.on("connect", () => r()));
  const disconnected = new Promise<void>((r) => socket.events.on("disconnect", () => r()));
  socket.connect(endpoint(k.connection, channel));
  await withTimeout(connected, 10_000, `connecting to ${channel}`);
  return { socket, disconnected };
}

/** A signed kernel_info_request whose content carries `padding` bytes. */
function kernelInfo(padding: number): { frames: Buffer[]; msgId: string } {
  const header = k.client.header("kernel_info_request");
  const content = padding > 0 ? { padding: "x".repeat(padding) } : {};
  return { frames: encodeFrames({ identities: [], header, parent_header: {}, metadata: {}, content }, new Signer(k.connection.key)), msgId: header.msg_id };
}

describe("maximum message size", () => {
  it("a frame under the limit is served as usual", async () => {
    const { socket } = await rawPeer("shell");
    const { frames, msgId } = kernelInfo(MIB / 2);
    await socket.send(frames);
    const reply = await withTimeout(socket.receive(), 10_000, "the reply");
    expect(JSON.parse(reply[3]!.toString()).msg_id).toBe(msgId);
  });

  it.each(["shell", "control"] as const)("a frame over it on %s: the sender is dropped, nothing is answered, others are served", async (channel) => {
    const { socket, disconnected } = await rawPeer(channel);
    const { frames, msgId } = kernelInfo(2 * MIB);
    await socket.send(frames);
    // libzmq on the kernel's side closes the connection when the frame's length arrives.
    await withTimeout(disconnected, 10_000, "the kernel dropping the oversized sender");
    // Another client is answered, and nothing ever carried the big request as its parent.
    const x = await k.client.request("shell", "kernel_info_request", {});
    expect(x.reply.content.status).toBe("ok");
    expect(seen.filter((m) => m.parent_header.msg_id === msgId)).toEqual([]);
    expect(k.process.exitCode).toBeNull();
  });

  it("applies to the heartbeat too", async () => {
    const { socket, disconnected } = await rawPeer("hb");
    // REP expects an empty delimiter frame before the ping from a DEALER.
    await socket.send([Buffer.alloc(0), Buffer.alloc(2 * MIB)]);
    await withTimeout(disconnected, 10_000, "the heartbeat dropping the oversized sender");
    const ping = new zmq.Request({ linger: 0 });
    onTestFinished(() => ping.close());
    ping.connect(endpoint(k.connection, "hb"));
    await ping.send("ping");
    expect((await withTimeout(ping.receive(), 10_000, "the pong"))[0]!.toString()).toBe("ping");
  });
});
