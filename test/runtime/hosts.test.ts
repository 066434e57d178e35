// PEs on several hosts: each "host" is a Linux network namespace on two networks (veth pairs to
// two bridges; test/runtime/netns.ts), made here as root. `charmrun ++hosts`/`++nodelist` runs
// the driver in the root namespace and starts PE processes inside the namespaces — through a
// remote shell that enters a namespace, and through real ssh to an sshd in each namespace —
// then checks where they run, that every socket across the veths is CURVE (a plain client and a
// wrong key fail their handshake), which interface they bound, and the program's results.
import { afterAll, beforeAll, expect, it } from "vitest";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as zmq from "zeromq";
import { listeningPorts, makeCluster, type NetnsCluster } from "./netns.ts";
import { describeWith, hasTools } from "../system-tools.ts";
import { alive } from "./alive.ts"; // namespaces share the pid space
import type { Whereabouts } from "./fixtures/hosts.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const program = "test/runtime/fixtures/program-hosts.ts";

let cluster: NetnsCluster;
let dir: string;
const children: ChildProcess[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "charm4ts-hosts-"));
  if (hasTools("netns")) cluster = makeCluster(2); // else every suite here is left out
});
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  cluster?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** A running charmrun: its output line by line, its stdin, and how it ended. */
interface Run {
  child: ChildProcess;
  nextLine(): Promise<string>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function charmrun(args: string[], env: Record<string, string> = {}, prog = program): Run {
  const child = spawn(process.execPath, ["bin/charmrun.mjs", ...args, prog], { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout! }).on("line", (line) => (waiting.length ? waiting.shift()!(line) : lines.push(line)));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
  const nextLine = () => {
    if (lines.length) return Promise.resolve(lines.shift()!);
    // A run that ends before printing says why in the failure.
    return Promise.race([new Promise<string>((resolve) => waiting.push(resolve)), done.then((r) => Promise.reject(new Error(`charmrun ended (code ${r.code}) before printing a line:\n${r.stderr}`)))]);
  };
  return { child, nextLine, done };
}

/** What a plain client and a client with made-up keys get from a socket at `address`: both fail their handshake. */
async function probe(address: string): Promise<string[]> {
  const handshake = (socket: zmq.Socket) => new Promise<string>((resolve) => {
    for (const type of ["handshake:error:protocol", "handshake:error:auth", "handshake:error:other", "handshake"] as const) socket.events.on(type, () => resolve(type));
  });
  const server = zmq.curveKeyPair();
  const client = zmq.curveKeyPair();
  const plain = new zmq.Push({ linger: 0 });
  const wrongKeys = new zmq.Push({ linger: 0, curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey });
  try {
    const results = [handshake(plain), handshake(wrongKeys)];
    for (const s of [plain, wrongKeys]) {
      s.connect(address);
      void s.send("intruder").catch(() => undefined);
    }
    return await Promise.all(results);
  } finally {
    plain.close();
    wrongKeys.close();
  }
}

// Neither handshake completes (which error libzmq names for the plain client varies by where it fails).
const REFUSED = [expect.stringMatching(/^handshake:error:/), expect.stringMatching(/^handshake:error:/)];

/** Whether a TCP connection to host:port is refused (nothing listens on that address). */
function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once("connect", () => { socket.destroy(); resolve(false); });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

/** A remote shell (`++remote-shell`) whose "host" is a namespace's address: it runs the command inside that namespace. */
function namespaceShell(): string {
  const cases = cluster.hosts.flatMap((h) => h.addresses.map((a) => `  ${a}) ns=${h.ns} ;;`)).join("\n");
  const file = join(dir, "netns-shell");
  writeFileSync(file, `#!/bin/sh\ncase "$1" in\n${cases}\n  *) echo "netns-shell: no host $1" >&2; exit 255 ;;\nesac\nexec ip netns exec "$ns" sh -c "$2"\n`);
  chmodSync(file, 0o755);
  return file;
}

interface Started {
  driver: number;
  where: Whereabouts[];
}

/** Runs the program until its PEs said where they are; `check` looks around before it goes on; returns the results. */
async function runHosts(run: Run, check: (started: Started) => Promise<void>): Promise<{ total: number; asked: Whereabouts }> {
  const started = JSON.parse(await run.nextLine()) as Started;
  await check(started);
  run.child.stdin!.end("go\n");
  const results = JSON.parse(await run.nextLine());
  const { code, stderr } = await run.done;
  expect(stderr).toBe("");
  expect(code).toBe(0);
  return results;
}

describeWith("netns")("PEs on hosts that are network namespaces", () => {
  it("++hosts a,b: 4 PEs round-robin in two namespaces join a driver in the root namespace over CURVE; a broadcast and a reduction work", async () => {
    const [h1, h2] = cluster.hosts as [typeof cluster.hosts[0], typeof cluster.hosts[0]];
    const run = charmrun(["+p4", "++hosts", `${h1.addresses[0]},${h2.addresses[0]}`, "++remote-shell", namespaceShell()]);
    const results = await runHosts(run, async ({ driver, where }) => {
      // PE i runs on host i mod 2, inside that namespace (its interfaces are the namespace's)
      expect(where.map((w) => w.pe)).toEqual([0, 1, 2, 3]);
      where.forEach((w, pe) => expect(w.addresses.sort()).toEqual([...cluster.hosts[pe % 2]!.addresses].sort()));
      // Every socket of every PE listens on its host's interface toward the driver, and refuses strangers.
      for (const w of where) {
        const ports = listeningPorts(cluster.hosts[w.pe % 2]!.ns, w.pid);
        expect(ports.length).toBeGreaterThan(0);
        for (const { address, port } of ports) {
          expect(address).toBe(cluster.hosts[w.pe % 2]!.addresses[0]);
          expect(await probe(`tcp://${address}:${port}`)).toEqual(REFUSED);
        }
      }
      // The driver bound the root namespace's interface toward the first host, not loopback.
      const driverPorts = listeningPorts(undefined, driver);
      expect(driverPorts.length).toBeGreaterThanOrEqual(2); // its rendezvous and its receiving socket
      for (const { address, port } of driverPorts) {
        expect(address).toBe(cluster.root[0]);
        expect(await probe(`tcp://${address}:${port}`)).toEqual(REFUSED);
      }
    });
    expect(results.total).toBe(10 * (1 + 2 + 3 + 4));
    expect(results.asked.pe).toBe(1);
    expect(results.asked.addresses.sort()).toEqual([...h2.addresses].sort());
  }, 60_000);

  it("+ppn 2 ++hosts a,b: one PE process on each host, hosting 2 PEs", async () => {
    const [h1, h2] = cluster.hosts as [typeof cluster.hosts[0], typeof cluster.hosts[0]];
    // Over CURVE (the default): the PE threads of one process share its ZAP handler.
    const run = charmrun(["+p4", "+ppn", "2", "++hosts", `${h1.addresses[0]},${h2.addresses[0]}`, "++remote-shell", namespaceShell()]);
    const results = await runHosts(run, async ({ where }) => {
      where.forEach((w, pe) => expect(w.addresses.sort()).toEqual([...cluster.hosts[Math.floor(pe / 2)]!.addresses].sort()));
      expect(new Set(where.map((w) => w.pid)).size).toBe(2);
      expect(where[1]!.pid).toBe(where[0]!.pid);
      expect(where[3]!.pid).toBe(where[2]!.pid);
    });
    expect(results.total).toBe(10 * (1 + 2 + 3 + 4));
  }, 60_000);

  it("+mixed ++hosts a,b: PEs 0-1 threads of the driver here, PEs 2-3 PE processes on the two hosts, over CURVE", async () => {
    const [h1, h2] = cluster.hosts as [typeof cluster.hosts[0], typeof cluster.hosts[0]];
    const run = charmrun(["+p4", "+mixed", "++hosts", `${h1.addresses[0]},${h2.addresses[0]}`, "++remote-shell", namespaceShell()]);
    const results = await runHosts(run, async ({ driver, where }) => {
      expect(where.map((w) => w.pe)).toEqual([0, 1, 2, 3]);
      expect(where[0]!.pid).toBe(driver);
      expect(where[1]!.pid).toBe(driver);
      expect(where[2]!.addresses.sort()).toEqual([...h1.addresses].sort());
      expect(where[3]!.addresses.sort()).toEqual([...h2.addresses].sort());
      // The driver's PE threads listen on its interface toward the hosts, and refuse strangers.
      for (const { address, port } of listeningPorts(undefined, driver)) {
        expect(address).toBe(cluster.root[0]);
        expect(await probe(`tcp://${address}:${port}`)).toEqual(REFUSED);
      }
    });
    expect(results.total).toBe(10 * (1 + 2 + 3 + 4));
  }, 60_000);

  it("charm.start({ hosts }) from code starts the PE processes over the remote shell on those hosts, as ++hosts does", async () => {
    const [h1, h2] = cluster.hosts as [typeof cluster.hosts[0], typeof cluster.hosts[0]];
    const run = charmrun([], { TEST_HOSTS_FROM_CODE: `${h1.addresses[0]},${h2.addresses[0]}`, CHARM4TS_REMOTE_SHELL: namespaceShell() });
    const results = await runHosts(run, async ({ where }) => {
      expect(where.map((w) => w.pe)).toEqual([0, 1]);
      where.forEach((w, pe) => expect(w.addresses.sort()).toEqual([...cluster.hosts[pe]!.addresses].sort()));
    });
    expect(results.total).toBe(10 * (1 + 2));
  }, 60_000);

  it("CHARM4TS_BIND picks the driver's interface: the driver listens there only, and PEs bind their interface on that network", async () => {
    const [h1, h2] = cluster.hosts as [typeof cluster.hosts[0], typeof cluster.hosts[0]];
    // Hosts named by their network-0 addresses; the runtime's traffic goes over network 1.
    const run = charmrun(["+p2", "++hosts", `${h1.addresses[0]},${h2.addresses[0]}`, "++remote-shell", namespaceShell()], { CHARM4TS_BIND: cluster.root[1] });
    const results = await runHosts(run, async ({ driver, where }) => {
      for (const w of where) {
        for (const { address } of listeningPorts(cluster.hosts[w.pe]!.ns, w.pid)) expect(address).toBe(cluster.hosts[w.pe]!.addresses[1]);
      }
      const driverPorts = listeningPorts(undefined, driver);
      expect(driverPorts.length).toBeGreaterThanOrEqual(2);
      for (const { address, port } of driverPorts) {
        expect(address).toBe(cluster.root[1]);
        expect(await refused(cluster.root[0], port)).toBe(true);
        expect(await refused("127.0.0.1", port)).toBe(true);
      }
    });
    expect(results.total).toBe(10 * (1 + 2));
  }, 60_000);
});

describeWith("netns", "sshd")("charmrun ++nodelist over real ssh (an sshd in each namespace)", () => {
  let sshConfig: string;
  let nodelist: string;
  beforeAll(async () => {
    const sshd = "/usr/sbin/sshd";
    try {
      execFileSync(sshd, ["-V"], { stdio: "ignore" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`${sshd} is missing: apt-get install openssh-server (as .ci/run does)`);
    }
    // Keys made for this run: the client's, and the hosts' (known to the client in advance).
    const keygen = (file: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "charm4ts-test", "-f", file]);
    keygen(join(dir, "id_ed25519"));
    keygen(join(dir, "host_ed25519"));
    writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "id_ed25519.pub")), { mode: 0o600 });
    const hostKey = readFileSync(join(dir, "host_ed25519.pub"), "utf8").split(" ").slice(0, 2).join(" ");
    writeFileSync(join(dir, "known_hosts"), cluster.hosts.map((h) => `${h.addresses[0]} ${hostKey}\n`).join(""));
    sshConfig = join(dir, "ssh_config");
    writeFileSync(sshConfig, [
      "Host *",
      "  User root",
      `  IdentityFile ${join(dir, "id_ed25519")}`,
      "  IdentitiesOnly yes",
      `  UserKnownHostsFile ${join(dir, "known_hosts")}`,
      "  StrictHostKeyChecking yes",
      "  LogLevel ERROR",
      "",
    ].join("\n"));
    nodelist = join(dir, "nodelist");
    writeFileSync(nodelist, ["# two hosts, Charm++'s format", "group main ++shell ssh", ...cluster.hosts.map((h) => `host ${h.addresses[0]}`), "group other", "host 192.0.2.99", ""].join("\n"));
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
    await Promise.all(cluster.hosts.map(async (h) => {
      const config = join(dir, `sshd_config-${h.ns}`);
      writeFileSync(config, [
        `ListenAddress ${h.addresses[0]}:22`,
        `HostKey ${join(dir, "host_ed25519")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        `PidFile ${join(dir, `sshd-${h.ns}.pid`)}`,
        "LogLevel INFO",
        "",
      ].join("\n"));
      const child = spawn("ip", ["netns", "exec", h.ns, sshd, "-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
      children.push(child);
      // sshd says when it listens; until then a connection would be refused.
      let log = "";
      await new Promise<void>((resolve, reject) => {
        child.stderr!.on("data", (d) => {
          log += d;
          if (log.includes("Server listening on")) resolve();
        });
        child.once("exit", (code) => reject(new Error(`sshd in ${h.ns} exited (code ${code}):\n${log}`)));
      });
    }));
  }, 30_000);

  it("charmrun +p4 ++nodelist FILE prog.ts: PEs started over ssh on the nodelist's hosts run the program, over CURVE", async () => {
    const h2 = cluster.hosts[1]!;
    const run = charmrun(["+p4", "++nodelist", nodelist, "++remote-shell", `ssh -F ${sshConfig}`]);
    const results = await runHosts(run, async ({ where }) => {
      where.forEach((w, pe) => expect(w.addresses.sort()).toEqual([...cluster.hosts[pe % 2]!.addresses].sort()));
      const [{ address, port }] = listeningPorts(h2.ns, where[1]!.pid);
      expect(await probe(`tcp://${address}:${port}`)).toEqual(REFUSED);
      // The secret went down ssh's stdin: no process on any host shows it (or any key) on its command line.
      const commands = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").filter((line) => /charm4ts-pe|ssh/.test(line));
      expect(commands.filter((line) => line.includes(`--connect tcp://${cluster.root[0]}:`)).length).toBeGreaterThanOrEqual(4 + 4); // each PE, each ssh client
      for (const line of commands) expect(line).not.toMatch(/[0-9a-f]{64}/);
    });
    expect(results.total).toBe(10 * (1 + 2 + 3 + 4));
    expect(results.asked.addresses.sort()).toEqual([...h2.addresses].sort());
  }, 60_000);

  it("a PE stuck in an endless loop on a remote host is declared dead, and its process there is ended too", async () => {
    const run = charmrun(["+p2", "++nodelist", nodelist, "++remote-shell", `ssh -F ${sshConfig}`], {}, "test/runtime/fixtures/program-stuck-host.ts");
    const { where } = JSON.parse(await run.nextLine()) as { where: Whereabouts[] };
    const victim = where[1]!.pid;
    // The call's PeLostError is how the program hears of it: not reported besides (no "reported" line).
    expect(JSON.parse(await run.nextLine())).toEqual({ error: expect.stringMatching(/^PE 1 stopped answering \(a stuck event loop\?\)/) });
    const { code, stderr } = await run.done;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    // Its ssh client was killed; sshd doesn't signal a command without a terminal, the lifeline does.
    await expect.poll(() => alive(victim), { timeout: 10_000 }).toBe(false);
  }, 60_000);

  it("a host ssh can't log in to fails the run, with ssh's reason and the PE named", async () => {
    const run = charmrun(["+p2", "++hosts", `${cluster.hosts[0]!.addresses[0]},c4t-nouser@${cluster.hosts[1]!.addresses[0]}`, "++remote-shell", `ssh -F ${sshConfig}`]);
    run.child.stdin!.end();
    const { code, stderr } = await run.done;
    expect(code).toBe(1);
    expect(stderr).toContain("Permission denied");
    expect(stderr).toContain("PE 1 exited with code 255");
  }, 60_000);
});
