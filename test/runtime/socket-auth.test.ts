// Every socket of a runtime of PE processes on loopback — the driver's data socket, its
// rendezvous, a PE's data socket — admits only peers holding the runtime's keys. Attacked with
// raw ZeroMQ as another local user would: a forged batch (a define that would write a file) from
// a plain client, from a CURVE client with a key of its own, and a member's recorded session
// replayed. Each refusal is seen at the attacker's end (its handshake fails, or the server
// closes the replayed connection); then a round trip through the runtime shows it works, and
// that nothing of the attack ran.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { charm, Future, type RemoteError } from "../../runtime/index.ts";
import { rt } from "../../runtime/core/current.ts";
import type { FutureId } from "../../runtime/protocol/ids.ts";
import type { Message } from "../../runtime/protocol/messages.ts";
import { encodeJoin } from "../../runtime/protocol/join.ts";
import { ZmqTransport } from "../../runtime/transport/zmq-transport.ts";
import { curveClient, type CurveKeys } from "../../runtime/transport/curve.ts";
import { Where } from "./fixtures/processes.ts";
import { forgedBatch, handshakeOutcome, recorder, rendezvousOf, replay, secretOf } from "./attacker.ts";

const fixtures = new URL("./fixtures/processes.ts", import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), "charm4ts-attack-"));

type Kind = "driver" | "rendezvous" | "PE";
const KINDS: Kind[] = ["driver", "rendezvous", "PE"];
const address = {} as Record<Kind, string>;
let pe0Pid = 0;
let keys: CurveKeys | undefined;
const errors: RemoteError[] = [];
// A driver future an accepted forged batch would resolve (made once the runtime runs).
let bait: Future<string>;
let baited = false;

beforeAll(async () => {
  await charm.start({ numPes: 2, modules: [fixtures], transport: "processes" });
  charm.onError((e) => errors.push(e));
  bait = new Future<string>();
  void Promise.resolve(bait).then(() => (baited = true), () => undefined); // shutdown rejects it
  const pids = await charm.group(Where).pid.ret();
  pe0Pid = pids[0]![1];
  const driver = rt().transport as ZmqTransport;
  // What `ss -ltnp` shows an attacker: the driver's and each PE's listening socket.
  address.driver = driver.address;
  address.PE = (driver as unknown as { peers: Map<number, string> }).peers.get(0)!;
  address.rendezvous = rendezvousOf(pe0Pid);
  keys = secretOf(pe0Pid).curve;
});

afterAll(async () => {
  charm.onError(undefined);
  await charm.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

/** A define that would write `file` on the PE that runs it (a diagnostic report is a file any code can write). */
function writing(file: string, fid = 0 as FutureId): Message {
  return { t: "define", code: `process.report.writeReport(${JSON.stringify(file)});`, fid };
}

/** What an attacker sends to each kind of socket: something that acts if it is taken. */
function forged(kind: Kind, file: string): Array<Buffer | Uint8Array> {
  if (kind === "rendezvous") return [Buffer.from(encodeJoin({ t: "lost", pe: 1, how: "forged" }))];
  if (kind === "PE") return forgedBatch(-1, [writing(file)]);
  // To the driver, claiming to be PE 0: a report it would print, a value for its future.
  return forgedBatch(0, [{ t: "report", e: { name: "Forged", message: "forged report", stack: "", pe: 0 } }, { t: "resolve", fid: bait.id, v: "forged" }]);
}

/** A socket of the kind that talks to `kind` (a rendezvous is a ROUTER: DEALERs talk to it). */
function client(kind: Kind, options: zmq.SocketOptions<zmq.Push>): zmq.Push | zmq.Dealer {
  return kind === "rendezvous" ? new zmq.Dealer({ linger: 0, ...options }) : new zmq.Push({ linger: 0, ...options });
}

/** A round trip through the runtime after an attack: both PEs answer the driver, so the runtime works and was never disturbed. */
async function runtimeStillWorks(): Promise<void> {
  expect((await charm.group(Where).pid.ret()).map(([pe]) => pe)).toEqual([0, 1]);
  expect(errors).toEqual([]);
  expect(baited).toBe(false);
  const driverStats = rt().transport.flowStats!();
  expect(driverStats.refused).toBe(0); // nothing got as far as the driver's member check
}

describe.each(KINDS)("the %s socket", (kind) => {
  it("refuses a plain TCP client: its forged batch never runs", async () => {
    const file = join(dir, `plain-${kind}.json`);
    const socket = client(kind, {});
    const outcome = handshakeOutcome(socket);
    socket.connect(address[kind]);
    void socket.send(forged(kind, file)).catch(() => undefined);
    // The mechanisms differ (NULL against CURVE): libzmq says "protocol" or "other".
    expect(await outcome).toMatch(/^handshake:error:(protocol|other)$/);
    socket.close();
    await runtimeStillWorks();
    expect(existsSync(file)).toBe(false);
  });

  it("refuses a CURVE client whose key the driver didn't issue, even one that knows the server's public key", async () => {
    expect(keys, "the runtime's secret carries CURVE keys").toBeDefined();
    const file = join(dir, `stranger-${kind}.json`);
    const stranger = zmq.curveKeyPair();
    const socket = client(kind, { curveServerKey: keys!.serverPublic, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey });
    const outcome = handshakeOutcome(socket);
    socket.connect(address[kind]);
    void socket.send(forged(kind, file)).catch(() => undefined);
    // Refused by the ZAP handler: the allow-list holds only the key handed out at join.
    expect(await outcome).toBe("handshake:error:auth");
    socket.close();
    await runtimeStillWorks();
    expect(existsSync(file)).toBe(false);
  });

  it("closes a replayed session: a member's recorded batch doesn't act twice", async () => {
    expect(keys, "the runtime's secret carries CURVE keys").toBeDefined();
    const relay = await recorder(address[kind]);
    const member = client(kind, curveClient(keys!));
    const file = join(dir, `replay-${kind}`);
    // A member's session through the relay, with an effect we wait for: the bytes now recorded
    // carried a batch that was taken once.
    let recordedEffect: Promise<unknown>;
    if (kind === "rendezvous") {
      const token = secretOf(pe0Pid).token;
      member.connect(relay.address);
      await member.send(encodeJoin({ t: "hello", v: 2, secret: token, addresses: ["tcp://127.0.0.1:1"], host: "h", pid: 1 }));
      recordedEffect = (member as zmq.Dealer).receive(); // "refused": the runtime has all its PEs
    } else if (kind === "PE") {
      // Each run writes the next numbered file: a replay would write `-2`.
      const done = new Future<null>();
      member.connect(relay.address);
      await member.send(forgedBatch(-1, [{ t: "define", code: `globalThis.__runs = (globalThis.__runs ?? 0) + 1; process.report.writeReport(${JSON.stringify(file)} + "-" + globalThis.__runs);`, fid: done.id }]));
      recordedEffect = Promise.resolve(done);
    } else {
      const reported = new Promise<RemoteError>((resolve) => charm.onError(resolve));
      member.connect(relay.address);
      await member.send(forgedBatch(0, [{ t: "report", e: { name: "Recorded", message: "recorded report", stack: "", pe: 0 } }]));
      recordedEffect = reported;
    }
    await recordedEffect;
    member.close();
    relay.close();
    charm.onError((e) => errors.push(e));

    expect(await replay(address[kind], relay.recorded())).toBe("closed by the server");
    await runtimeStillWorks();
    if (kind === "PE") {
      expect(existsSync(`${file}-1`)).toBe(true);
      expect(existsSync(`${file}-2`)).toBe(false);
    }
  });
});

describe("a member claiming a sender that isn't a live member", () => {
  it("is dropped and counted by the receiving PE", async () => {
    const file = join(dir, "unknown-sender.json");
    const member = new zmq.Push({ linger: 0, ...curveClient(keys!) });
    member.connect(address.PE);
    const after = new Future<null>();
    await member.send(forgedBatch(77, [writing(file)]));
    // Same connection, so handled after the first: once it has run, the first was judged.
    await member.send(forgedBatch(-1, [{ t: "define", code: "void 0;", fid: after.id }]));
    await after;
    member.close();
    expect(existsSync(file)).toBe(false);
    const pe0 = (await charm.status()).pes.find((p) => p.pe === 0)!;
    expect(pe0.flow?.refused).toBe(1);
  });
});
