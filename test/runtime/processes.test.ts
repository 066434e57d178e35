// PEs in processes of their own (`transport: "processes"`), over real child processes and real
// TCP sockets on loopback: PE-to-PE traffic, big arrays, death of a PE process and of the driver,
// restart, and the join handshake's secret and rank.
import { afterEach, describe, expect, it } from "vitest";
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { charm, Future, PeLostError, RemoteError } from "../../runtime/index.ts";
import { Rendezvous } from "../../runtime/startup/rendezvous.ts";
import { Where } from "./fixtures/processes.ts";
import { alive } from "./alive.ts";

const fixtures = new URL("./fixtures/processes.ts", import.meta.url).href;
const root = fileURLToPath(new URL("../../", import.meta.url));
const peCommand = join(root, "bin/charm4ts-pe.mjs");

afterEach(async () => {
  charm.onError(undefined);
  await charm.shutdown();
});

function nextError(): Promise<RemoteError> {
  return new Promise((resolve) => charm.onError(resolve));
}

describe("PEs in processes", () => {
  it("each PE is a process of its own, and PEs call each other directly", async () => {
    await charm.start({ numPes: 3, modules: [fixtures], transport: "processes" });
    const pids = await charm.group(Where).pid.ret();
    expect(pids.map(([pe]) => pe)).toEqual([0, 1, 2]);
    const distinct = new Set([process.pid, ...pids.map(([, pid]) => pid)]);
    expect(distinct.size).toBe(4);
    const arr = charm.array(Where, 3);
    expect(await arr.at(0).peerPid.ret(arr.at(2))).toEqual(pids[2]);
    // charm.status() names each PE's process (a notebook finds the one to kill there)
    const status = await charm.status();
    expect(status.pes.map((p) => p.pid)).toEqual(pids.map(([, pid]) => pid));
    expect((status as any)[Symbol.for("charm4ts.mimeBundle")]()["text/plain"]).toMatch(/heap\s+process\n/);
  });

  it("a 1 MiB Float64Array crosses processes intact, there and back, and reduces element-wise", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], transport: "processes" });
    const arr = charm.array(Where, 2);
    const data = new Float64Array(131072).map((_, i) => i);
    const doubled = await arr.at(1).twice.ret(data);
    expect(doubled).toBeInstanceOf(Float64Array);
    expect(doubled.length).toBe(131072);
    expect(doubled[131071]).toBe(2 * 131071);
    expect(data[5]).toBe(5); // the caller's copy is untouched
    const sums = new Future<number[]>();
    arr.total(data, sums);
    expect(await sums).toEqual([0, 2, 4]);
  });

  it("kill -9 of a PE process nothing waited on is reported as a lost PE, and the driver and other PEs carry on", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], transport: "processes" });
    const [, [, victim]] = await charm.group(Where).pid.ret();
    const reported = nextError();
    process.kill(victim!, "SIGKILL");
    const err = await reported;
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.pe).toBe(1);
    expect(err.remoteName).toBe("PeLostError");
    expect(err.message).toContain(`PE 1 was lost (killed by SIGKILL, process ${victim}); nothing was waiting on it; its chares are lost.`);
    expect(await charm.chare(Where, [], { onPe: 0 }).pid.ret()).toEqual([0, expect.any(Number)]);
    // and the runtime can be rebuilt with every PE again
    await charm.restart();
    expect((await charm.group(Where).pid.ret()).map(([pe]) => pe)).toEqual([0, 1]);
  });

  it("a call waiting on a PE process that is killed rejects with PeLostError naming the PE; the loss isn't reported besides", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], transport: "processes" });
    const reported: RemoteError[] = [];
    charm.onError((e) => reported.push(e));
    const arr = charm.array(Where, 2);
    const [, [, victim]] = await arr.pid.ret();
    const waiting = arr.at(1).stall.ret();
    await charm.waitQD(); // the call has arrived and is waiting
    process.kill(victim!, "SIGKILL");
    const err = await Promise.resolve(waiting).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PeLostError);
    expect((err as PeLostError).pe).toBe(1);
    expect((err as Error).message).toMatch(/^PE 1 was killed by SIGKILL; Where\[1\]\.stall was waiting on it and may or may not have run/);
    expect(() => arr.at(1).pid.ret()).toThrow(PeLostError); // later calls fail at once
    await charm.define("var afterDeath = 1;"); // a notebook's next declarations reach the live PEs, not hang on the dead one
    expect(reported).toEqual([]); // the program heard of the loss through the call's PeLostError
  });

  it("a stopped PE process (SIGSTOP) is reported once it stops answering heartbeats", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], transport: "processes" });
    const [, [, victim]] = await charm.group(Where).pid.ret();
    const reported = nextError();
    process.kill(victim!, "SIGSTOP");
    const err = await reported;
    expect(err.pe).toBe(1);
    // ZeroMQ's heartbeat or ours, whichever notices first
    expect(err.message).toMatch(new RegExp(`PE 1 was lost \\((closed its connection or )?stopped answering.*process ${victim}\\)`));
    expect(await charm.chare(Where, [], { onPe: 0 }).pid.ret()).toEqual([0, expect.any(Number)]);
    // shutdown kills it (SIGKILL ends a stopped process too)
  });

  it("a PE process stuck in an endless loop is found by the application heartbeat, killed, and its calls reject", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], transport: "processes" });
    const arr = charm.array(Where, 2);
    const [[, pid0], [, victim]] = await arr.pid.ret();
    const reported: RemoteError[] = [];
    charm.onError((e) => reported.push(e));
    const t0 = performance.now();
    const stuck = arr.at(1).spin.ret();
    const err = await Promise.resolve(stuck).then(() => undefined, (e: unknown) => e);
    const seconds = (performance.now() - t0) / 1000;
    // ZeroMQ's own heartbeats are answered by its I/O thread: only ours can see this.
    expect(err).toBeInstanceOf(PeLostError);
    expect((err as PeLostError).pe).toBe(1);
    expect((err as Error).message).toMatch(/^PE 1 stopped answering \(a stuck event loop\?\); Where\[1\]\.spin was waiting on it and may or may not have run/);
    expect(seconds).toBeGreaterThan(1.9);
    expect(seconds).toBeLessThan(5);
    await expect.poll(() => alive(victim!)).toBe(false);
    expect(() => arr.at(1).pid.ret()).toThrow(PeLostError);
    expect(await arr.at(0).pid.ret()).toEqual([0, pid0]); // the other PE keeps working
    await charm.waitQD();
    expect(reported).toEqual([]); // heard through the call's PeLostError: not reported besides
  });

  it("an entry method busy for longer than the default 2 s is left alone with a longer peTimeout", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], transport: "processes", peTimeout: 6 });
    const errors: RemoteError[] = [];
    charm.onError((e) => errors.push(e));
    const arr = charm.array(Where, 2);
    await charm.awaitCreation(arr);
    expect(await arr.at(1).busy.ret(2600)).toBe(2600);
    expect(errors).toEqual([]);
    await expect(charm.restart({ peTimeout: -1 })).rejects.toThrow("peTimeout must be a number of seconds");
  });

  it("shutdown stops every PE process, and restart makes new ones", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], transport: "processes" });
    const before = (await charm.group(Where).pid.ret()).map(([, pid]) => pid);
    await charm.restart({ numPes: 3 });
    for (const pid of before) expect(alive(pid)).toBe(false);
    const after = await charm.group(Where).pid.ret();
    expect(after.length).toBe(3);
    expect(after.some(([, pid]) => before.includes(pid))).toBe(false);
    const mine = after.map(([, pid]) => pid);
    await charm.shutdown();
    for (const pid of mine) expect(alive(pid)).toBe(false);
  });

  it("PE processes exit when their driver is killed", async () => {
    const driver = spawn(process.execPath, ["bin/charmrun.mjs", "+p2", "+processes", "test/runtime/fixtures/program-pids.ts"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    driver.stderr!.on("data", (d) => (stderr += d));
    // "close" comes once every holder of the pipes has gone: the PE processes inherited them.
    const closed = new Promise<void>((resolve) => driver.once("close", () => resolve()));
    const line = await new Promise<string>((resolve) => driver.stdout!.once("data", (d) => resolve(String(d))));
    const { pes } = JSON.parse(line) as { pes: number[] };
    driver.kill("SIGKILL");
    // Their pipes closing is the proof they exited (orphans linger as zombies, so no pid check).
    await closed;
    expect(pes.length).toBe(2);
    expect(stderr).toContain("PE 0 lost the driver");
    expect(stderr).toContain("PE 1 lost the driver");
  });
});

describe("joining a runtime (charm4ts-pe)", () => {
  const running: ChildProcess[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const child of running.splice(0)) child.kill("SIGKILL");
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function pe(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
    const child = execFile(process.execPath, [peCommand, ...args], { env: { PATH: process.env.PATH, ...env } }, () => undefined);
    running.push(child);
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once("close", (code) => resolve({ code, stderr })));
    return { child, done };
  }

  function secretFile(secret: string, mode: number): string {
    const dir = mkdtempSync(join(tmpdir(), "charm4ts-secret-"));
    dirs.push(dir);
    const file = join(dir, "secret");
    writeFileSync(file, secret + "\n", { mode });
    return file;
  }

  it("a PE with the wrong secret is refused and says so", async () => {
    const rendezvous = await Rendezvous.bind("127.0.0.1", "right");
    try {
      const { done } = pe(["--connect", rendezvous.address], { CHARM4TS_SECRET: "wrong" });
      const { code, stderr } = await done;
      expect(code).toBe(1);
      expect(stderr).toContain("refused this PE: wrong secret");
    } finally {
      rendezvous.close();
    }
  });

  it("reads the secret from a 0600 file and its rank from the launcher's environment", async () => {
    const rendezvous = await Rendezvous.bind("127.0.0.1", "s3cret");
    try {
      const joined = rendezvous.gather(3);
      pe(["--connect", rendezvous.address, "--secret-file", secretFile("s3cret", 0o600)], { OMPI_COMM_WORLD_RANK: "2" });
      pe(["--connect", rendezvous.address, "--secret-file", secretFile("s3cret", 0o600)], { SLURM_PROCID: "0" });
      pe(["--connect", rendezvous.address, "--secret-file", secretFile("s3cret", 0o600)]);
      const joiners = await joined;
      expect(joiners.map((j) => j.rank)).toEqual([0, undefined, 2]);
      expect(joiners.every((j) => j.addresses.length === 1 && /^tcp:\/\/127\.0\.0\.1:\d+$/.test(j.addresses[0]!))).toBe(true);
    } finally {
      rendezvous.close();
    }
  });

  it("refuses a secret file other users can read, and a secret on the command line is not an option", async () => {
    const loose = pe(["--connect", "tcp://127.0.0.1:9", "--secret-file", secretFile("x", 0o644)]);
    const { code, stderr } = await loose.done;
    expect(code).toBe(2);
    expect(stderr).toContain("can be read by other users (mode 644); run `chmod 600");
    const onArgv = pe(["--connect", "tcp://127.0.0.1:9", "--secret", "x"]);
    expect((await onArgv.done).stderr).toContain("unknown option --secret");
  });
});
