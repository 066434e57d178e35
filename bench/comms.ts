// Comm round trips (issue 13's figures): a frontend's comm_msg to the handler a cell registered
// and the handler's reply, with the kernel idle, while a cell awaits a promise, and while a cell
// awaits chare work on 2 PEs that keep both cores busy; beside a trivial cell's round trip
// measured in the same kernel, in the same run.
import type { Msg } from "../kernel/runner/client.ts";
import { withTimeout } from "../kernel/runner/client.ts";
import { launchKernel, type LaunchedKernel } from "../kernel/runner/launch.ts";
import { medianOf, type Row } from "./row.ts";

const ROUND_TRIPS = 400;
const WARM_UP = 50;

/** The p-th percentile of `xs` (0–100). */
function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

// The bench's cells: an echo target, and a cell that runs until a comm message releases it.
const SETUP = `
let release = () => {};
comms.register("bench.echo", (comm) => {
  comm.onMsg((m) => {
    if (m.data.release) return release();
    comm.send({ n: m.data.n }, {}, m.buffers);
  });
});
class Spinner extends Chare {
  spin(ms: number) { const end = Date.now() + ms; while (Date.now() < end); return ms; }
}
const spinners = charm.array(Spinner, 2);
await charm.awaitCreation(spinners);
`;
const AWAITING_PROMISE = `await new Promise<void>((r) => (release = r)); "released"`;
// Keeps both PEs busy 5 ms per call, the cell awaiting each call, until released.
const AWAITING_CHARES = `let running = true;
release = () => (running = false);
let calls = 0;
while (running) { await Promise.all([spinners.at(0).spin.ret(5), spinners.at(1).spin.ret(5)]); calls++; }
calls`;

/** Sends comm messages on one comm and times each until the handler's reply arrives. */
class CommProbe {
  private waiting: { msgId: string; resolve(): void } | undefined;

  private constructor(private readonly k: LaunchedKernel, private readonly commId: string) {
    k.client.listen((m: Msg) => {
      const w = this.waiting;
      if (w && m.header.msg_type === "comm_msg" && m.parent_header.msg_id === w.msgId) w.resolve();
    });
  }

  /** Opens a comm to the bench's echo target. */
  static async open(k: LaunchedKernel): Promise<CommProbe> {
    const probe = new CommProbe(k, "bench-comm");
    k.client.sendRaw("shell", k.client.header("comm_open"), {}, { comm_id: probe.commId, target_name: "bench.echo", data: {} });
    await withTimeout(probe.roundTrip(0), 10_000, "the first comm round trip");
    return probe;
  }

  /** Milliseconds from sending a comm_msg (with a 64-byte buffer) to its reply. */
  async roundTrip(n: number): Promise<number> {
    const header = this.k.client.header("comm_msg");
    const replied = new Promise<void>((resolve) => (this.waiting = { msgId: header.msg_id, resolve }));
    const t0 = performance.now();
    this.k.client.sendRaw("shell", header, {}, { comm_id: this.commId, data: { n } }, { buffers: [Buffer.alloc(64, n)] });
    await withTimeout(replied, 10_000, `the reply to comm message ${n}`);
    return performance.now() - t0;
  }

  /** Tells the running cell to end (its handler releases it). */
  release(): void {
    this.k.client.sendRaw("shell", this.k.client.header("comm_msg"), {}, { comm_id: this.commId, data: { release: true } });
  }

  async series(): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < WARM_UP + ROUND_TRIPS; i++) {
      const ms = await this.roundTrip(i);
      if (i >= WARM_UP) times.push(ms);
    }
    return times;
  }
}

/** Round trips while `code` runs as a cell (which must end once released); checks it ended well. */
async function whileCellRuns(k: LaunchedKernel, probe: CommProbe, code: string): Promise<number[]> {
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const cell = k.client.execute(`console.log("running"); ${code}`, {}, (m) => {
    if (m.header.msg_type === "stream") started();
  });
  await withTimeout(running, 20_000, "the bench cell to start");
  const times = await probe.series();
  probe.release();
  const x = await withTimeout(cell, 20_000, "the bench cell to end once released");
  if (x.reply.content.status !== "ok") throw new Error(`bench cell failed: ${JSON.stringify(x.reply.content)}`);
  return times;
}

/** Comm benchmark rows for `npm run bench`. */
export async function commBenchmarks(): Promise<Row[]> {
  process.env.CHARM4TS_PES = "2";
  const k = await launchKernel();
  try {
    const setup = await k.client.execute(SETUP);
    if (setup.reply.content.status !== "ok") throw new Error(`bench setup failed: ${JSON.stringify(setup.reply.content)}`);
    const trivial: number[] = [];
    for (let i = 0; i < WARM_UP + ROUND_TRIPS; i++) {
      const t0 = performance.now();
      await k.client.execute("1");
      if (i >= WARM_UP) trivial.push(performance.now() - t0);
    }
    const floor = { name: "trivial cell '1' round trip, p50", value: medianOf(trivial), unit: "ms" };
    const probe = await CommProbe.open(k);
    const idle = await probe.series();
    const awaiting = await whileCellRuns(k, probe, AWAITING_PROMISE);
    const chares = await whileCellRuns(k, probe, AWAITING_CHARES);
    const rows = (what: string, times: number[], target?: string): Row[] => [
      { name: `comm round trip ${what}, p50`, value: medianOf(times), unit: "ms", floor, ...(target ? { target } : {}) },
      { name: `comm round trip ${what}, p95`, value: percentile(times, 95), unit: "ms", floor },
    ];
    return [
      ...rows("(comm_msg → handler's comm_msg), kernel idle", idle),
      ...rows("while a cell awaits a promise", awaiting, "≤ 5 ms"),
      ...rows("while a cell awaits chare work (2 PEs busy)", chares, "≤ 5 ms"),
    ];
  } finally {
    await k.shutdown();
  }
}
