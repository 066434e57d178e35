// The ZeroMQ transport on its own, over real TCP sockets on loopback: order per destination,
// structured-clone values, big typed arrays as frames of their own, causes, errors reported,
// and credit-based flow control (a raw PULL socket plays a receiver that grants by hand).
import { afterEach, describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { ZmqTransport } from "../../runtime/transport/zmq-transport.ts";
import { decodeFrames, encodeFrames, grantFrame } from "../../runtime/transport/zmq-frames.ts";
import { WireWriter } from "../../runtime/transport/wire.ts";
import type { Message } from "../../runtime/protocol/messages.ts";
import type { FutureId } from "../../runtime/protocol/ids.ts";

const open: ZmqTransport[] = [];
afterEach(() => {
  for (const t of open.splice(0)) t.close();
});

async function pair(): Promise<[ZmqTransport, ZmqTransport]> {
  const a = await ZmqTransport.bind();
  const b = await ZmqTransport.bind();
  open.push(a, b);
  a.join(0, [[1, b.address]]);
  b.join(1, [[0, a.address]]);
  return [a, b];
}

/** Collects `n` messages arriving at `t`, with their causes. */
function collect(t: ZmqTransport, n: number): Promise<Array<[Message, number]>> {
  const got: Array<[Message, number]> = [];
  return new Promise((resolve) => t.listen((m, c) => { got.push([m, c]); if (got.length === n) resolve(got); }));
}

const resolve = (fid: number, v: unknown): Message => ({ t: "resolve", fid: fid as FutureId, v });

describe("ZmqTransport", () => {
  it("binds on loopback by default", async () => {
    const [a] = await pair();
    expect(a.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  });

  it("keeps order per destination across turns and batches, both ways", async () => {
    const [a, b] = await pair();
    const atB = collect(b, 3000);
    const atA = collect(a, 10);
    for (let i = 0; i < 1000; i++) a.send(1, resolve(i, i));
    await Promise.resolve();
    for (let i = 1000; i < 3000; i++) a.send(1, resolve(i, i === 2999 ? "last" : i)); // past the eager batch size
    for (let i = 0; i < 10; i++) b.send(0, resolve(i, { i }));
    expect((await atB).map(([m]) => (m as { fid: number }).fid)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect((await atA).map(([m]) => (m as { v: { i: number } }).v.i)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it("carries structured-clone values and the cause of each message", async () => {
    const [a, b] = await pair();
    const atB = collect(b, 2);
    const value = { map: new Map([[1, "one"]]), set: new Set([2]), date: new Date(5), big: 7n, err: new TypeError("x"), nested: [null, undefined, "s"] };
    a.send(1, resolve(1, value), undefined, 3);
    a.send(1, resolve(2, 4), undefined, 4);
    const [[m1, c1], [m2, c2]] = await atB;
    const v = (m1 as { v: typeof value }).v;
    expect(v.map.get(1)).toBe("one");
    expect(v.set.has(2)).toBe(true);
    expect(v.date.getTime()).toBe(5);
    expect(v.big).toBe(7n);
    expect(v.err).toBeInstanceOf(TypeError);
    expect(v.nested).toEqual([null, undefined, "s"]);
    expect([c1, c2]).toEqual([3, 4]);
    expect((m2 as { v: number }).v).toBe(4);
  });

  it("moves big typed arrays intact, small and large, among other values", async () => {
    const [a, b] = await pair();
    const atB = collect(b, 2);
    const big = new Float64Array(300_000).map((_, i) => i * 0.5); // 2.4 MB: sent at once, its own frame
    const small = new Int16Array([1, -2, 3]);
    a.send(1, resolve(1, { big, small }), [big.buffer, small.buffer]);
    a.send(1, resolve(2, "after"));
    const [[m1], [m2]] = await atB;
    const got = (m1 as { v: { big: Float64Array; small: Int16Array } }).v;
    expect(got.big).toBeInstanceOf(Float64Array);
    expect(got.big.length).toBe(300_000);
    expect(got.big[299_999]).toBe(299_999 * 0.5);
    expect([...got.small]).toEqual([1, -2, 3]);
    expect((m2 as { v: string }).v).toBe("after");
  });

  it("frames: a large buffer travels as a frame of its own, not inside the serialized extras", () => {
    const w = new WireWriter();
    const big = new Uint8Array(100_000).fill(9);
    w.write(resolve(1, { big }));
    const frames = encodeFrames(5, w.take()!, [big.buffer]);
    expect(frames.length).toBe(2);
    expect(frames[0]!.byteLength).toBeLessThan(1000); // header, words and the serialized extras
    expect(frames[1]!.byteLength).toBe(100_000);
    const { sender, batch } = decodeFrames(frames.map((f) => Buffer.from(f)));
    expect(sender).toBe(5);
    expect(batch!.x.length).toBe(1);
    expect((batch!.x[0] as { v: { big: Uint8Array } }).v.big[99_999]).toBe(9);
  });

  it("frames: a batch of words alone is one frame", () => {
    const w = new WireWriter();
    w.write(resolve(1, 2.5));
    const frames = encodeFrames(-1, w.take()!, undefined);
    expect(frames.length).toBe(1);
    const { sender, batch } = decodeFrames(frames.map((f) => Buffer.from(f)));
    expect(sender).toBe(-1);
    expect(batch!.x).toEqual([]);
    expect(batch!.w.length).toBeGreaterThan(0);
  });

  it("reports what can't cross a process (a SharedArrayBuffer) instead of throwing at the sender", async () => {
    const errors: Error[] = [];
    let reported!: () => void;
    const seen = new Promise<void>((r) => (reported = r));
    const a = await ZmqTransport.bind({ onError: (e) => { errors.push(e); reported(); } });
    open.push(a);
    a.join(0, [[1, "tcp://127.0.0.1:9"]]);
    a.send(1, resolve(1, new SharedArrayBuffer(8)));
    await seen;
    expect(errors[0]!.message).toMatch(/from PE 0 to PE 1 could not be encoded.*SharedArrayBuffer/);
  });

  it("says which endpoint it can't reach", async () => {
    const [a] = await pair();
    expect(a.reaches(1)).toBe(true);
    expect(a.reaches(7)).toBe(false);
    expect(() => a.send(7, resolve(1, 1))).toThrow("no channel from endpoint 0 to 7");
  });
});

describe("ZmqTransport flow control", () => {
  const sockets: Array<zmq.Pull | zmq.Push> = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  /** A receiver that takes frames off the wire but grants only when told (a raw PULL socket), and a PUSH to grant with. */
  async function rawPeer(a: ZmqTransport): Promise<{ pull: zmq.Pull; grant: (bytes: number) => Promise<void> }> {
    const pull = new zmq.Pull({ linger: 0 });
    await pull.bind("tcp://127.0.0.1:*");
    const push = new zmq.Push({ linger: 0 });
    push.connect(a.address);
    sockets.push(pull, push);
    a.join(0, [[1, pull.lastEndpoint!]]);
    return { pull, grant: (bytes) => push.send(grantFrame(1, bytes)) };
  }

  const kib = (i: number): Message => resolve(i, new Float64Array(128).fill(i)); // ~1 KiB, an extra

  it("keeps at most a window in flight to a receiver that grants nothing, holds the rest in order, and sends it as grants come", async () => {
    const a = await ZmqTransport.bind({ window: 64 * 1024 });
    open.push(a);
    const { pull, grant } = await rawPeer(a);
    for (let i = 0; i < 2000; i++) a.send(1, kib(i)); // ~2 MiB
    a.flush();
    // Once the first batch has arrived, the sender has posted all its window allows.
    const first = await pull.receive();
    const stalled = a.flowStats();
    expect(stalled.inFlight).toBeGreaterThan(0);
    expect(stalled.inFlight).toBeLessThanOrEqual(64 * 1024 + 600 * 1024); // the window and one batch (512 messages)
    expect(stalled.held).toBeGreaterThan(1024 * 1024);
    const drained = a.drained(1);
    // Take frames and grant what they carried, as a receiver does, until all 2,000 messages are in.
    const fids: number[] = [];
    const take = async (frames: Buffer[]): Promise<void> => {
      const { batch } = decodeFrames(frames);
      for (const m of batch!.x) fids.push((m as { fid: number }).fid);
      await grant(frames.reduce((n, f) => n + f.length, 0));
    };
    await take(first);
    while (fids.length < 2000) await take(await pull.receive());
    expect(fids).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    await drained; // every held message has gone out
    // The last grants travel back over the socket: wait for them to be counted.
    while (a.flowStats().inFlight > 0) await new Promise((r) => setImmediate(r));
    expect(a.flowStats()).toMatchObject({ inFlight: 0, held: 0 });
  });

  it("reports a peer that takes nothing for the send timeout, naming both ends and what waits", async () => {
    let reported!: (e: Error) => void;
    const error = new Promise<Error>((r) => (reported = r));
    const a = await ZmqTransport.bind({ window: 16 * 1024, sendTimeoutMs: 300, onError: (e) => reported(e) });
    open.push(a);
    await rawPeer(a);
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) a.send(1, kib(i)); // 4 batches: the first leaves, the rest wait
    const e = await error;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(e.message).toMatch(/^PE 1 has taken no messages from PE 0 for 0\.3 s: \d+ batches \(\d+ bytes\) wait for it, \d+ bytes are in flight; is it stuck, or cut off from PE 0\?/);
  });

  it("two endpoints streaming to each other past a small window both finish, in order (grants never wait behind credit)", async () => {
    const a = await ZmqTransport.bind({ window: 32 * 1024 });
    const b = await ZmqTransport.bind({ window: 32 * 1024 });
    open.push(a, b);
    a.join(0, [[1, b.address]]);
    b.join(1, [[0, a.address]]);
    const atA = collect(a, 3000);
    const atB = collect(b, 3000);
    for (let i = 0; i < 3000; i++) { a.send(1, kib(i)); b.send(0, kib(i)); }
    const order = (got: Array<[Message, number]>) => got.map(([m]) => (m as { fid: number }).fid);
    expect(order(await atA)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(order(await atB)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(a.flowStats().peakInFlight).toBeLessThanOrEqual(32 * 1024 + 600 * 1024);
  });

  it("a peer declared lost drops what waits for it, and drained() resolves", async () => {
    const a = await ZmqTransport.bind({ window: 16 * 1024 });
    open.push(a);
    await rawPeer(a);
    for (let i = 0; i < 2000; i++) a.send(1, kib(i));
    const drained = a.drained(1);
    expect(a.flowStats().held).toBeGreaterThan(0);
    a.peerLost(1);
    await drained;
    expect(a.flowStats()).toMatchObject({ inFlight: 0, held: 0 });
    a.send(1, kib(0)); // dropped: the runtime has already rejected what waited on it
    await a.drained();
  });
});
