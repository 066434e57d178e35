// The connection file (spec: "Connection files"): where the five sockets live and the key
// that signs messages. Read by the kernel; written by our notebook runner for the kernel it spawns.
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";

/** The fields of a Jupyter connection file this kernel uses. */
export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  shell_port: number;
  control_port: number;
  iopub_port: number;
  stdin_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
  kernel_name?: string;
}

/** The five channels and their socket roles on the kernel side. */
export const CHANNELS = ["shell", "control", "iopub", "stdin", "hb"] as const;
/** One of the five channels. */
export type Channel = (typeof CHANNELS)[number];

/** Reads and checks a connection file; errors name the field and the file. */
export function readConnectionFile(path: string): ConnectionInfo {
  const raw = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  const transport = raw.transport ?? "tcp";
  if (transport !== "tcp" && transport !== "ipc") throw new Error(`${path}: transport must be "tcp" or "ipc"`);
  for (const ch of CHANNELS) {
    const port = raw[`${ch}_port`];
    if (!Number.isInteger(port)) throw new Error(`${path}: ${ch}_port must be an integer`);
  }
  // A key of another type must not quietly become "" (no signing): that would turn authentication
  // off for a file that meant to turn it on. Only an empty string (or no key at all) means unsigned.
  const key = raw.key === undefined ? "" : raw.key;
  if (typeof key !== "string") {
    throw new Error(`${path}: key must be a string (the HMAC key, or "" for unsigned messages), not ${raw.key === null ? "null" : typeof key}`);
  }
  return {
    ...(raw as unknown as ConnectionInfo),
    transport,
    ip: typeof raw.ip === "string" ? raw.ip : "127.0.0.1",
    key,
    signature_scheme: typeof raw.signature_scheme === "string" ? raw.signature_scheme : "hmac-sha256",
  };
}

/** The ZeroMQ endpoint of a channel (ipc endpoints follow jupyter_client: `<ip>-<port>`). */
export function endpoint(info: ConnectionInfo, channel: Channel): string {
  const port = info[`${channel}_port`];
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}

/** A TCP port the OS reports free on this address (raced like jupyter_client's, in practice fine). */
export function freePort(ip = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, ip, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** A fresh connection for a kernel on loopback: five free ports and a random key. */
export async function newConnection(ip = "127.0.0.1"): Promise<ConnectionInfo> {
  const ports: number[] = [];
  // Ask for each port while the previous ones are reserved in our list, avoiding duplicates.
  while (ports.length < 5) {
    const p = await freePort(ip);
    if (!ports.includes(p)) ports.push(p);
  }
  const [shell_port, control_port, iopub_port, stdin_port, hb_port] = ports as [number, number, number, number, number];
  return {
    transport: "tcp",
    ip,
    shell_port,
    control_port,
    iopub_port,
    stdin_port,
    hb_port,
    key: randomUUID() + randomBytes(8).toString("hex"),
    signature_scheme: "hmac-sha256",
    kernel_name: "charm4ts",
  };
}

/** Writes a connection file readable by its owner only (it holds the signing key). */
export function writeConnectionFile(path: string, info: ConnectionInfo): void {
  writeFileSync(path, JSON.stringify(info, null, 2), { mode: 0o600 });
}
