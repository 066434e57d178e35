// Comm round trips (issue 13's figures): a frontend's comm_msg to the handler a cell registered
// and the handler's reply, with the kernel idle, while a cell awaits a promise, and while a cell
// awaits chare work on 2 PEs that keep both cores busy; and a widget change (a slider edit) until
// every PE acknowledged the new value; beside a trivial cell's round trip measured in the same
// kernel, in the same run.
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
// Steering: a slider's change goes to every PE (a group), and once all have it a label says so.
class Seer extends Chare {
  seen = -1;
  see(v: number) { this.seen = v; }
}
const seers = charm.group(Seer);
const level = widgets.IntSlider({ max: 1_000_000_000 });
const seenEverywhere = widgets.Label();
level.onChange(async (v) => { await seers.see.awaitable(v); seenEverywhere.value = String(v); });
`;
const AWAITING_PROMISE = `await new Promise<void>((r) => (release = r)); "released"`;
// Keeps both PEs busy 5 ms per call, the cell awaiting each call, until released.
const AWAITING_CHARES = `let running = true;
release = () => (running = false);
let calls = 0;
while (running) { await Promise.all([spinners.at(0).spin.ret(5), spinners.at(1).spin.ret(5)]); calls++; }
calls`;

/** Sends comm messages on one comm and times each until the first comm message sent under it arrives. */
class CommProbe {
  private waiting: { msgId: string; resolve(): void } | undefined;

  private constructor(
    private readonly k: LaunchedKernel,
    private readonly commId: string,
    private readonly data: (n: number) => Record<string, unknown> = (n) => ({ n }),
  ) {
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

  /** Moves the setup's slider (a frontend's widget edit, widget protocol 2); its reply is the label saying every PE has the value. */
  static slider(k: LaunchedKernel, commId: string): CommProbe {
    return new CommProbe(k, commId, (n) => ({ method: "update", state: { value: n + 1 }, buffer_paths: [] }));
  }

  /** Milliseconds from sending a comm_msg (with a 64-byte buffer) to its reply. */
  async roundTrip(n: number): Promise<number> {
    const header = this.k.client.header("comm_msg");
    const replied = new Promise<void>((resolve) => (this.waiting = { msgId: header.msg_id, resolve }));
    const t0 = performance.now();
    this.k.client.sendRaw("shell", header, {}, { comm_id: this.commId, data: this.data(n) }, { buffers: [Buffer.alloc(64, n)] });
    await withTimeout(replied, 10_000, `the reply to comm message ${n}`);
    return performance.now() - t0;
  }

  /** Tells the running cell to end (its handler releases it). */
  release(): void {
    this.k.client.sendRaw("shell", this.k.client.header("comm_msg"), {}, { comm_id: this.commId, data: { release: true } });
  }

  /** Round trips after a warm-up; `from` numbers the messages (a slider's values must change). */
  async series(from = 0): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < WARM_UP + ROUND_TRIPS; i++) {
      const ms = await this.roundTrip(from + i);
      if (i >= WARM_UP) times.push(ms);
    }
    return times;
  }
}

/** `measure` while `code` runs as a cell (which must end once `probe` released it); checks it ended well. */
async function whileCellRuns(k: LaunchedKernel, probe: CommProbe, code: string, measure: () => Promise<number[]> = () => probe.series()): Promise<number[]> {
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const cell = k.client.execute(`console.log("running"); ${code}`, {}, (m) => {
    if (m.header.msg_type === "stream") started();
  });
  await withTimeout(running, 20_000, "the bench cell to start");
  const times = await measure();
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
    const sliderId = setup.iopub.find((m) => m.header.msg_type === "comm_open" && (m.content.data as { state?: { _model_name?: string } }).state?._model_name === "IntSliderModel")?.content.comm_id;
    if (typeof sliderId !== "string") throw new Error("bench setup opened no slider");
    const slider = CommProbe.slider(k, sliderId);
    const sliderIdle = await slider.series(0);
    const sliderBusy = await whileCellRuns(k, probe, AWAITING_CHARES, () => slider.series(WARM_UP + ROUND_TRIPS));
    const rows = (what: string, times: number[], target?: string): Row[] => [
      { name: `comm round trip ${what}, p50`, value: medianOf(times), unit: "ms", floor, ...(target ? { target } : {}) },
      { name: `comm round trip ${what}, p95`, value: percentile(times, 95), unit: "ms", floor },
    ];
    return [
      ...rows("(comm_msg → handler's comm_msg), kernel idle", idle),
      ...rows("while a cell awaits a promise", awaiting, "≤ 5 ms"),
      ...rows("while a cell awaits chare work (2 PEs busy)", chares, "≤ 5 ms"),
      // A frontend's slider edit → onChange → a group broadcast every PE acknowledges → a label update back.
      { name: "widget change → every PE has it (acknowledged), kernel idle, p50", value: medianOf(sliderIdle), unit: "ms", floor },
      { name: "widget change → every PE has it (acknowledged), kernel idle, p95", value: percentile(sliderIdle, 95), unit: "ms", floor, target: "≤ 20 ms" },
      { name: "widget change → every PE has it, while a cell awaits 5 ms chare steps, p50", value: medianOf(sliderBusy), unit: "ms", floor },
      { name: "widget change → every PE has it, while a cell awaits 5 ms chare steps, p95", value: percentile(sliderBusy, 95), unit: "ms", floor, target: "≤ 20 ms" },
    ];
  } finally {
    await k.shutdown();
  }
}
