/**
 * The transport between processes (issue 6): 2 PE processes over ZeroMQ TCP (authenticated with
 * CURVE, the default), beside raw ZeroMQ from the same run; PEs sharing a process (MessagePorts)
 * beside PEs in two (ZeroMQ); and the cost of authentication, beside plain TCP.
 */
import { charm, Future } from "../runtime/index.ts";
import { Bouncer } from "./chares.ts";
import { median, medianOf, type Row } from "./row.ts";
import { rawZmqBandwidth, rawZmqRoundTrip, rawZmqThroughput } from "./zmq-floors.ts";
import { rawPortRoundTrip } from "./floors.ts";

const time = async (fn: () => PromiseLike<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

/** Runs the process-transport rows; `want` filters by row name (BENCH=…; BENCH=authenticated runs only the last). */
export async function processBenchmarks(want: (name: string) => boolean): Promise<Row[]> {
  const rows: Row[] = [];
  if (["process", "zmq", "tcp"].some(want)) rows.push(...(await transportRows()), ...(await hostedRoundTrips()));
  if (["process", "zmq", "tcp", "authenticated", "curve"].some(want)) rows.push(...(await authenticationRows()));
  return rows;
}

/** 2 PE processes: round trips, messages per second and bandwidth, each beside raw ZeroMQ. */
async function transportRows(): Promise<Row[]> {
  const rows: Row[] = [];
  const rawRate = await median(3, () => rawZmqThroughput(100_000));
  const rawBandwidth = await median(3, () => rawZmqBandwidth(50));

  await charm.start({ numPes: 2, modules: [new URL("../bench/chares.ts", import.meta.url).href], transport: "processes" });
  try {
    // Elements 0,1 live on PE 0 and 2,3 on PE 1: two processes.
    const b = charm.array(Bouncer, 4);
    await charm.awaitCreation(b);
    b.at(0).setup(b.at(2));
    b.at(2).setup(b.at(0));
    await b.at(0).retLoop.ret(b.at(2), 500); // warm up: every socket connected

    // Round trips on this shared VM drift by ±20% within seconds: the raw floor and ours are
    // measured in turns, and each figure is the median of its turns.
    const iters = 2000;
    const raws: number[] = [];
    const pingPongs: number[] = [];
    const rets: number[] = [];
    for (let turn = 0; turn < 5; turn++) {
      raws.push(await rawZmqRoundTrip(iters));
      pingPongs.push((await time(() => { const f = new Future<void>(); b.at(0).pingPong(iters, f); return Promise.resolve(f); })) * 1000 / iters);
      rets.push((await time(async () => { for (let i = 0; i < iters; i++) await b.at(2).echo.ret(i); })) * 1000 / iters);
    }
    const floorRtt = { name: "raw ZeroMQ PUSH/PULL round trip between processes", value: medianOf(raws), unit: "µs" };
    rows.push({ name: "entry-method ping-pong round trip, 2 PE processes", value: medianOf(pingPongs), unit: "µs", floor: floorRtt, target: "≤ 1.3× raw" });
    rows.push({ name: "ret call round trip, driver ↔ PE process", value: medianOf(rets), unit: "µs", floor: floorRtt, target: "≤ 1.3× raw" });

    const count = 200_000;
    const oneWay = await median(3, async () => {
      const ms = await time(async () => { const f = new Future<void>(); b.at(0).stream(b.at(2), count, f); await f; });
      return count / (ms / 1000) / 1e6;
    });
    rows.push({ name: "one-way messages per second, 2 PE processes", value: oneWay, unit: "M/s", floor: { name: "raw ZeroMQ one-way, a message each", value: rawRate / 1e6, unit: "M/s" }, target: "report" });

    const big = new Float64Array(131072).fill(2.5);
    const times = 50;
    const bw = await median(3, async () => {
      const ms = await time(async () => { const f = new Future<void>(); b.at(0).blast(b.at(2), big, times, f); await f; });
      return (times * big.byteLength) / (ms / 1000) / 1e9;
    });
    rows.push({ name: "1 MiB Float64Array to a PE in another process", value: bw, unit: "GB/s", floor: { name: "raw ZeroMQ one-way, 1 MiB messages", value: rawBandwidth, unit: "GB/s" }, target: "report" });
  } finally {
    await charm.shutdown();
  }
  return rows;
}

/**
 * What authenticating every socket costs: the default (CURVE, keys per runtime) beside plain
 * TCP, which admits anyone who reaches a port. Runtimes of each kind take turns, since round
 * trips here drift by ±20% within seconds; each figure is the median of its turns.
 */
async function authenticationRows(): Promise<Row[]> {
  const curve: Measured[] = [];
  const plain: Measured[] = [];
  for (let turn = 0; turn < 3; turn++) {
    curve.push(await measureRuntime());
    process.env.CHARM4TS_PLAIN_TCP = "1";
    try {
      plain.push(await measureRuntime());
    } finally {
      delete process.env.CHARM4TS_PLAIN_TCP;
    }
  }
  const plainly = "over plain TCP, unauthenticated (CHARM4TS_PLAIN_TCP=1)";
  return [
    { name: "entry-method ping-pong round trip, 2 PE processes, authenticated (CURVE, the default)", value: medianOf(curve.map((m) => m.pingPong)), unit: "µs", floor: { name: `the same ${plainly}`, value: medianOf(plain.map((m) => m.pingPong)), unit: "µs" }, target: "report" },
    // CURVE encrypts every byte on ZeroMQ's I/O thread: big messages pay most.
    { name: "1 MiB Float64Array to a PE in another process, authenticated (CURVE)", value: medianOf(curve.map((m) => m.bandwidth)), unit: "GB/s", floor: { name: `the same ${plainly}`, value: medianOf(plain.map((m) => m.bandwidth)), unit: "GB/s" }, target: "report" },
  ];
}

/** A runtime's ping-pong round trip (µs) and bandwidth for 1 MiB arrays (GB/s). */
interface Measured {
  pingPong: number;
  bandwidth: number;
}

/** Medians of the ping-pong round trip and 1 MiB bandwidth in a fresh runtime of 2 PE processes, started as the environment says. */
async function measureRuntime(): Promise<Measured> {
  await charm.start({ numPes: 2, modules: [new URL("../bench/chares.ts", import.meta.url).href], transport: "processes" });
  try {
    const b = charm.array(Bouncer, 4);
    await charm.awaitCreation(b);
    b.at(0).setup(b.at(2));
    b.at(2).setup(b.at(0));
    await b.at(0).retLoop.ret(b.at(2), 500); // warm up: every socket connected
    const iters = 2000;
    const pingPong = await median(5, async () => (await time(() => { const f = new Future<void>(); b.at(0).pingPong(iters, f); return Promise.resolve(f); })) * 1000 / iters);
    const big = new Float64Array(131072).fill(2.5);
    const bandwidth = await median(3, async () => (20 * big.byteLength) / (await time(() => { const f = new Future<void>(); b.at(0).blast(b.at(2), big, 20, f); return Promise.resolve(f); })) / 1e6);
    return { pingPong, bandwidth };
  } finally {
    await charm.shutdown();
  }
}

/**
 * Round trips between PEs that share a PE process (a MessagePort between their threads) and PEs
 * in different PE processes (ZeroMQ between their threads): 2 processes hosting 2 PEs each.
 */
async function hostedRoundTrips(): Promise<Row[]> {
  await charm.start({ numPes: 4, modules: [new URL("../bench/chares.ts", import.meta.url).href], transport: "processes", pesPerProcess: 2 });
  try {
    // 8 elements on 4 PEs: 2i and 2i+1 on PE i. 0 (PE 0) and 2 (PE 1) share a process; 1 (PE 0) and 4 (PE 2) don't.
    const b = charm.array(Bouncer, 8);
    await charm.awaitCreation(b);
    for (const [x, y] of [[0, 2], [1, 4]] as const) {
      b.at(x).setup(b.at(y));
      b.at(y).setup(b.at(x));
      await b.at(x).retLoop.ret(b.at(y), 500); // warm up: every socket connected
    }
    const iters = 2000;
    const pingPong = async (from: number): Promise<number> => (await time(() => { const f = new Future<void>(); b.at(from).pingPong(iters, f); return Promise.resolve(f); })) * 1000 / iters;
    const ports: number[] = [];
    const zmqs: number[] = [];
    const near: number[] = [];
    const far: number[] = [];
    for (let turn = 0; turn < 5; turn++) {
      ports.push(await rawPortRoundTrip(iters));
      zmqs.push(await rawZmqRoundTrip(iters));
      near.push(await pingPong(0));
      far.push(await pingPong(1));
    }
    return [
      { name: "entry-method ping-pong round trip, 2 PEs in one PE process", value: medianOf(near), unit: "µs", floor: { name: "raw MessagePort round trip between threads", value: medianOf(ports), unit: "µs" }, target: "report" },
      { name: "entry-method ping-pong round trip, PEs in 2 PE processes of 2 PEs", value: medianOf(far), unit: "µs", floor: { name: "raw ZeroMQ PUSH/PULL round trip between processes", value: medianOf(zmqs), unit: "µs" }, target: "report" },
    ];
  } finally {
    await charm.shutdown();
  }
}
