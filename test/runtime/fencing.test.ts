// Who a ZmqTransport takes batches from: only the peers it joined with, and none declared dead —
// except what a peer whose process ended by itself sent before (its last words). A raw PUSH
// socket plays the senders; a batch from a live peer sent after the one judged orders the test
// (one connection is FIFO), so nothing waits on a timer. Then a PE process declared dead in a
// real runtime: stopped (SIGSTOP), it is killed with its process group; one the driver can't
// kill (started by hand) is fenced, so what it sends once continued (SIGCONT) reaches nobody.
import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as zmq from "zeromq";
import { charm, PeLostError, type RemoteError } from "../../runtime/index.ts";
import { rt } from "../../runtime/core/current.ts";
import { ZmqTransport } from "../../runtime/transport/zmq-transport.ts";
import type { Message } from "../../runtime/protocol/messages.ts";
import type { Endpoint, FutureId } from "../../runtime/protocol/ids.ts";
import { forgedBatch } from "./attacker.ts";
import { Lingerer } from "./fixtures/fenced.ts";

const open: Array<ZmqTransport | zmq.Push> = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

const note = (v: string): Message => ({ t: "resolve", fid: 1 as FutureId, v });

/** Endpoint 0 with peers 1 and 2, what it delivers (with the sender), and a raw socket to send it batches as anyone. */
async function receiver(): Promise<{ t: ZmqTransport; got: Array<[Endpoint | undefined, unknown]>; next: () => Promise<void>; send: (sender: Endpoint, v: string) => Promise<void> }> {
  const t = await ZmqTransport.bind();
  const push = new zmq.Push({ linger: 0 });
  open.push(t, push);
  // Peers' addresses are dialled only to grant credit back: a closed port does for this test.
  t.join(0, [[1, "tcp://127.0.0.1:9"], [2, "tcp://127.0.0.1:9"]]);
  push.connect(t.address);
  const got: Array<[Endpoint | undefined, unknown]> = [];
  let wake: (() => void) | undefined;
  t.listen((m, _cause, from) => { got.push([from, (m as { v: unknown }).v]); wake?.(); });
  const next = () => new Promise<void>((resolve) => (wake = resolve));
  return { t, got, next, send: (sender, v) => push.send(forgedBatch(sender, [note(v)])) };
}

describe("ZmqTransport membership", () => {
  it("drops and counts a batch from a sender it didn't join with", async () => {
    const { t, got, next, send } = await receiver();
    const arrived = next();
    await send(7, "from a stranger");
    await send(1, "from PE 1");
    await arrived;
    expect(got).toEqual([[1, "from PE 1"]]);
    expect(t.flowStats().refused).toBe(1);
    expect([...t.refusedBatches()]).toEqual([[7, 1]]);
  });

  it("fences a peer declared dead: what it sends afterwards is dropped and counted", async () => {
    const { t, got, next, send } = await receiver();
    let arrived = next();
    await send(1, "before");
    await arrived;
    t.peerLost(1);
    arrived = next();
    await send(1, "after its death");
    await send(2, "from PE 2");
    await arrived;
    expect(got).toEqual([[1, "before"], [2, "from PE 2"]]);
    expect([...t.refusedBatches()]).toEqual([[1, 1]]);
  });

  it("still takes what a peer whose process ended had sent (its last words), for a moment", async () => {
    const { t, got, next, send } = await receiver();
    t.ended(1);
    t.peerLost(1);
    const arrived = next();
    await send(1, "last words");
    await arrived;
    expect(got).toEqual([[1, "last words"]]);
    expect(t.flowStats().refused).toBe(0);
  });
});

const fixtures = new URL("./fixtures/fenced.ts", import.meta.url).href;
const root = fileURLToPath(new URL("../../", import.meta.url));

/** Whether a process runs (a zombie, dead but not yet reaped by its parent, doesn't). */
function running(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("a PE process declared dead", () => {
  const attached: ChildProcess[] = [];
  const errors: RemoteError[] = [];
  afterEach(async () => {
    charm.onError(undefined);
    await charm.shutdown();
    for (const child of attached.splice(0)) child.kill("SIGKILL");
    errors.length = 0;
  });

  it("when stopped (SIGSTOP), is killed with its process group: what it started goes too", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], transport: "processes" });
    const reported = new Promise<RemoteError>((resolve) => charm.onError(resolve));
    const arr = charm.array(Lingerer, 2);
    const pid = await arr.at(1).pid.ret();
    const grandchild = await arr.at(1).startChild.ret();
    process.kill(pid, "SIGSTOP");
    expect((await reported).message).toMatch(new RegExp(`PE 1 was lost \\(stopped answering.*, process ${pid}\\); it was killed`));
    await expect.poll(() => running(pid), { timeout: 3000, message: "the stopped PE process to be killed" }).toBe(false);
    await expect.poll(() => running(grandchild), { timeout: 3000, message: "the process it started to be killed with it" }).toBe(false);
    expect(await arr.at(0).pid.ret()).not.toBe(pid);
  });

  it("that the driver can't kill (started by hand) is fenced: once continued (SIGCONT), its answer and its call reach nobody", async () => {
    const jobDir = mkdtempSync(join(tmpdir(), "charm4ts-fence-"));
    process.env.CHARM4TS_JOB_DIR = jobDir;
    try {
      // No application heartbeat: the stopped PE is found by ZeroMQ's (its connection drops), and
      // after SIGCONT its first batch to the driver is the one with its answer, not a pong.
      await charm.start({ numPes: 2, modules: [fixtures], transport: "processes", peTimeout: 0, attach: (commands) => {
        for (const command of commands) {
          const [, rank, args] = /^CHARM4TS_RANK=(\d+) npx charm4ts-pe (.+)$/.exec(command)!;
          attached.push(spawn(process.execPath, ["bin/charm4ts-pe.mjs", ...args!.split(" ")], { cwd: root, env: { PATH: process.env.PATH, CHARM4TS_RANK: rank }, stdio: "ignore" }));
        }
      } });
    } finally {
      delete process.env.CHARM4TS_JOB_DIR;
      rmSync(jobDir, { recursive: true, force: true });
    }
    charm.onError((e) => errors.push(e));
    const arr = charm.array(Lingerer, 2);
    const pid = await arr.at(1).pid.ret();
    const stale = Promise.resolve(arr.at(1).afterContinue.ret(arr.at(0))).catch((e: unknown) => e);
    await charm.waitQD(); // the call has run: PE 1 waits for SIGCONT
    process.kill(pid, "SIGSTOP");
    const lost = await stale; // the call's PeLostError is how the driver hears of it: not reported besides
    expect(lost).toBeInstanceOf(PeLostError);
    expect((lost as Error).message).toMatch(/^PE 1 closed its connection or stopped answering/);
    process.kill(pid, "SIGCONT");

    // Its answer to the driver and its call to PE 0 arrive, and are dropped and counted there.
    const driver = rt().transport as ZmqTransport;
    await expect.poll(() => driver.refusedBatches().get(1) ?? 0, { timeout: 5000, message: "PE 1's answer to reach the driver" }).toBeGreaterThan(0);
    const refusedAtPe0 = async () => (await charm.status()).pes.find((p) => p.pe === 0)?.flow?.refused ?? 0;
    await expect.poll(refusedAtPe0, { timeout: 5000, message: "PE 1's call to reach PE 0" }).toBeGreaterThan(0);
    expect(await arr.at(0).poked.ret()).toEqual([]);
    expect(errors).toEqual([]); // no stale value for a completed future, nor a report of the loss it heard of
    expect(running(pid)).toBe(true); // alive, and harmless
  });
});
