// CURVE between PE processes: on by default on every address, and the negative cases — a plain
// client, a client that doesn't know the server key, a client key the driver didn't issue —
// each fails its handshake and never delivers a message (socket-auth.test.ts attacks a runtime).
import { afterEach, describe, expect, it, vi } from "vitest";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { networkInterfaces } from "node:os";
import * as zmq from "zeromq";
import { charm } from "../../runtime/index.ts";
import { rt } from "../../runtime/core/current.ts";
import { ZmqTransport } from "../../runtime/transport/zmq-transport.ts";
import { curveClient, newCurveKeys } from "../../runtime/transport/curve.ts";
import { decodeSecret, encodeSecret } from "../../runtime/startup/secret.ts";
import type { Message } from "../../runtime/protocol/messages.ts";
import type { FutureId } from "../../runtime/protocol/ids.ts";
import { Where } from "./fixtures/processes.ts";

const fixtures = new URL("./fixtures/processes.ts", import.meta.url).href;

// This machine's first non-loopback IPv4 address (without one, loopback: CURVE is on there too).
const offLoopback = Object.values(networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal)?.address;

const sockets: zmq.Socket[] = [];
const transports: ZmqTransport[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  for (const t of transports.splice(0)) t.close();
  for (const name of ["CHARM4TS_BIND", "CHARM4TS_PLAIN_TCP"]) delete process.env[name];
  await charm.shutdown();
});

/** Resolves with the first handshake failure a connecting socket sees. */
function handshakeFailure(socket: zmq.Socket): Promise<string> {
  return new Promise((resolve) => {
    for (const type of ["handshake:error:protocol", "handshake:error:auth", "handshake:error:other"] as const) {
      socket.events.on(type, () => resolve(type));
    }
  });
}

const hello = (v: string): Message => ({ t: "resolve", fid: 1 as FutureId, v });

describe("CURVE between PE processes", () => {
  it("on loopback, a runtime of PE processes encrypts by default", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], transport: "processes" });
    expect((rt().transport as ZmqTransport).encrypted).toBe(true);
  });

  it("off loopback, a runtime of PE processes encrypts by default, and works", async () => {
    if (offLoopback) process.env.CHARM4TS_BIND = offLoopback;
    await charm.start({ numPes: 2, modules: [fixtures], transport: "processes" });
    const transport = rt().transport as ZmqTransport;
    expect(transport.encrypted).toBe(true);
    expect(transport.address.startsWith(`tcp://${offLoopback ?? "127.0.0.1"}:`)).toBe(true);
    const arr = charm.array(Where, 2);
    const [, pid1] = await arr.at(1).pid.ret();
    expect(await arr.at(0).peerPid.ret(arr.at(1))).toEqual([1, pid1]);
  });

  it.each([["processes", 0], ["mixed", 1]] as const)("PE threads sharing a process encrypt too, one ZAP handler serving them all (%s)", async (transport, localPes) => {
    // 3 PEs: two threads of one PE process (beside a thread of the driver's process when mixed)
    await charm.start({ numPes: 3, modules: [fixtures], transport, pesPerProcess: 2, ...(localPes ? { localPes } : {}) });
    const arr = charm.array(Where, 3);
    const pids = await arr.pid.ret();
    expect(await arr.at(0).peerPid.ret(arr.at(2))).toEqual(pids[2]);
    expect(await arr.at(2).peerPid.ret(arr.at(1))).toEqual(pids[1]);
  });

  it("plain TCP only when asked for (CHARM4TS_PLAIN_TCP=1), with a warning", async () => {
    const warned = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    process.env.CHARM4TS_BIND = offLoopback ?? "127.0.0.1";
    process.env.CHARM4TS_PLAIN_TCP = "1";
    await charm.start({ numPes: 2, modules: [fixtures], transport: "processes" });
    expect(String(warned.mock.calls[0]?.[0])).toMatch(/^charm4ts: CHARM4TS_PLAIN_TCP=1: .* anyone who can reach them .* can run code in its PEs/);
    warned.mockRestore();
    expect((rt().transport as ZmqTransport).encrypted).toBe(false);
    expect((await charm.array(Where, 2).pid.ret()).map(([pe]) => pe)).toEqual([0, 1]);
  });

  it("a plain client, a wrong server key and a client key the driver didn't issue all fail; the runtime's keys get through", async () => {
    const keys = newCurveKeys();
    const receiver = await ZmqTransport.bind({ curve: keys });
    const sender = await ZmqTransport.bind({ curve: keys });
    transports.push(receiver, sender);
    receiver.join(0, [[1, sender.address]]); // a batch is taken only from a member
    const received: Message[] = [];
    const first = new Promise<void>((resolve) => receiver.listen((m) => { received.push(m); resolve(); }));

    const plain = new zmq.Push({ linger: 0 });
    const wrongServer = new zmq.Push({ linger: 0, ...curveClient({ ...keys, serverPublic: newCurveKeys().serverPublic }) });
    const stranger = zmq.curveKeyPair();
    const unknownClient = new zmq.Push({ linger: 0, curveServerKey: keys.serverPublic, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey });
    sockets.push(plain, wrongServer, unknownClient);
    const failures = [handshakeFailure(plain), handshakeFailure(wrongServer), handshakeFailure(unknownClient)];
    for (const s of [plain, wrongServer, unknownClient]) {
      s.connect(receiver.address);
      void s.send("intruder");
    }
    expect(await Promise.all(failures)).toEqual(["handshake:error:protocol", "handshake:error:other", "handshake:error:auth"]);

    sender.join(1, [[0, receiver.address]]);
    sender.send(0, hello("from a holder of the keys"));
    await first;
    expect(received).toEqual([hello("from a holder of the keys")]);
  });

  it("a runtime bound right after another closed in this process still refuses a client key it didn't issue", async () => {
    // Closing a ZAP handler frees its address later, on ZeroMQ's thread; a runtime binding
    // meanwhile once found it taken and went without one, letting any client key in.
    for (let round = 0; round < 30; round++) {
      const earlier = await ZmqTransport.bind({ curve: newCurveKeys() });
      earlier.close();
      const keys = newCurveKeys();
      const receiver = await ZmqTransport.bind({ curve: keys });
      transports.push(receiver);
      const stranger = zmq.curveKeyPair();
      const unknownClient = new zmq.Push({ linger: 0, curveServerKey: keys.serverPublic, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey });
      sockets.push(unknownClient);
      const failure = handshakeFailure(unknownClient);
      unknownClient.connect(receiver.address);
      expect(await failure).toBe("handshake:error:auth");
      unknownClient.close();
      receiver.close();
      sockets.length = transports.length = 0;
    }
  });

  it("after shutdown, nothing of CURVE keeps the driver's process running", async () => {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ["bin/charmrun.mjs", "test/runtime/fixtures/program-start-stop.ts"], { cwd: root, env: process.env, timeout: 20_000 }, (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
    });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("called PE 1, shut down");
    expect(run.code).toBe(0); // ended by itself, not by the timeout's signal
  });

  it("the secret carries the keys on one line, and is read back whole", () => {
    const curve = newCurveKeys();
    expect(decodeSecret(encodeSecret({ token: "abc", curve }))).toEqual({ token: "abc", curve });
    expect(decodeSecret("abc\n")).toEqual({ token: "abc" });
    expect(() => decodeSecret("abc,short")).toThrow("the secret is malformed");
  });
});
