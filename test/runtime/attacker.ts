// What an adversary on the same host does to a runtime's sockets, for the socket tests: learn
// the addresses (a PE process's command line names the rendezvous), forge batches in our wire
// format, connect with or without keys, and record a member's encrypted session to replay it.
import { readFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import type * as zmq from "zeromq";
import type { Endpoint } from "../../runtime/protocol/ids.ts";
import type { Message } from "../../runtime/protocol/messages.ts";
import { WireWriter } from "../../runtime/transport/wire.ts";
import { encodeFrames } from "../../runtime/transport/zmq-frames.ts";
import { decodeSecret, SECRET_ENV, type RuntimeSecret } from "../../runtime/startup/secret.ts";

/** The frames of one batch of `messages` claiming to come from `sender`, as any peer would send them. */
export function forgedBatch(sender: Endpoint, messages: Message[]): Uint8Array[] {
  const writer = new WireWriter();
  for (const msg of messages) writer.write(msg);
  return encodeFrames(sender, writer.take()!, undefined);
}

/** The rendezvous address a PE process was started with (its command line is public: `ps`). */
export function rendezvousOf(pid: number): string {
  const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  return argv[argv.indexOf("--connect") + 1]!;
}

/**
 * The secret a spawned PE process was started with. Only its own user can read a process's
 * environment: the tests use it to play a member of the runtime (or to know the server's public
 * key, the most an outsider could hope for).
 */
export function secretOf(pid: number): RuntimeSecret {
  const entry = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").find((e) => e.startsWith(`${SECRET_ENV}=`));
  if (!entry) throw new Error(`process ${pid} has no ${SECRET_ENV} in its environment`);
  return decodeSecret(entry.slice(SECRET_ENV.length + 1));
}

const OUTCOMES = ["handshake", "handshake:error:protocol", "handshake:error:auth", "handshake:error:other"] as const;

/** How a connecting socket's first handshake ends ("handshake" when it is accepted), or that none ended within `ms`. */
export function handshakeOutcome(socket: zmq.Socket, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(`no handshake ended within ${ms} ms`), ms);
    for (const type of OUTCOMES) socket.events.on(type, () => { clearTimeout(timer); resolve(type); });
  });
}

/** "tcp://host:port" → host and port. */
function hostPort(address: string): { host: string; port: number } {
  const m = /^tcp:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`not a tcp:// address: ${address}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** A TCP relay in front of `target` that records what clients send through it. */
export interface Recorder {
  /** Where to connect instead of `target`. */
  address: string;
  /** Everything clients sent, in order (a CURVE session: handshake and encrypted batches). */
  recorded(): Buffer;
  close(): void;
}

/** Starts a relay that records the client's side of every session through it. */
export async function recorder(target: string): Promise<Recorder> {
  const { host, port } = hostPort(target);
  const chunks: Buffer[] = [];
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, host);
    for (const s of [client, upstream]) { open.add(s); s.on("error", () => undefined); }
    client.on("data", (d) => { chunks.push(Buffer.from(d)); upstream.write(d); });
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: relayPort } = server.address() as { port: number };
  return {
    address: `tcp://127.0.0.1:${relayPort}`,
    recorded: () => Buffer.concat(chunks),
    close: () => { server.close(); for (const s of open) s.destroy(); },
  };
}

/**
 * Sends recorded bytes to `target` on a fresh connection, as a replaying attacker would, and
 * resolves with how the connection ended: "closed by the server", or that it was still open
 * after `ms` (the server then took the replay for a live session).
 */
export function replay(target: string, bytes: Buffer, ms = 5000): Promise<string> {
  const { host, port } = hostPort(target);
  return new Promise((resolve) => {
    const socket = connect(port, host, () => socket.write(bytes));
    const timer = setTimeout(() => { socket.destroy(); resolve(`still open after ${ms} ms`); }, ms);
    socket.on("error", () => undefined);
    socket.resume(); // read what the server says, or its end never comes
    socket.on("close", () => { clearTimeout(timer); resolve("closed by the server"); });
  });
}
