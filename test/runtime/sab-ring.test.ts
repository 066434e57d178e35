// The rings between threads (runtime/transport/sab-ring.ts) and the order they keep with the
// ports (port-inlet.ts): records come out as written, across wrap-arounds and full rings; and a
// random mix of batches that take the ring (words alone), the port (objects, moved buffers) or
// fall back to the port (no room in the ring) arrives whole and in order, on one thread and
// between two, with and without a spin window (fast-check, seeded: replay with the printed seed).
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { build } from "esbuild";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { newRing, RingReader, RingWriter } from "../../runtime/transport/sab-ring.ts";
import { PortTransport } from "../../runtime/transport/port-transport.ts";
import { PortInlet, type PortBatch } from "../../runtime/transport/port-inlet.ts";
import { WireWriter } from "../../runtime/transport/wire.ts";
import { AwakeCount, forgetThread, newAwakeCount } from "../../runtime/transport/awake-count.ts";
import type { Message } from "../../runtime/protocol/messages.ts";
import { bounded } from "../bounded.ts";

describe("a ring", () => {
  it("gives back every record as written, in order, and refuses only what has no room", () => {
    fc.assert(fc.property(fc.integer({ min: 8, max: 64 }), fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(-1)), { maxLength: 300 }), (size, ops) => {
      const sab = newRing(size);
      const writer = new RingWriter(sab);
      const reader = new RingReader(sab);
      const queued: number[][] = [];
      let seq = 0;
      const readOne = (): void => {
        const s = reader.peek();
        if (queued.length === 0) { expect(s).toBe(-1); return; }
        const want = queued.shift()!;
        expect(s).toBe(want[0]);
        expect(Array.from(reader.take())).toEqual(want.slice(1));
      };
      for (const op of ops) {
        if (op < 0) { readOne(); continue; }
        const words = Float64Array.from({ length: op }, (_, i) => seq * 100 + i);
        if (writer.write(seq, words, op)) { queued.push([seq, ...words]); seq++; continue; }
        // Refused: drained, the ring takes any record up to half its size.
        while (queued.length > 0) readOne();
        expect(reader.peek()).toBe(-1);
        if (op + 2 <= size / 2 - 1) {
          expect(writer.write(seq, words, op)).toBe(true);
          queued.push([seq, ...words]);
          seq++;
        }
      }
      while (queued.length > 0) readOne();
      expect(reader.peek()).toBe(-1);
    }), { seed: 1717, numRuns: 300 });
  });

  it("a reader marked asleep is rung once per sleep", () => {
    const sab = newRing(64);
    const writer = new RingWriter(sab);
    const reader = new RingReader(sab);
    expect(writer.write(0, new Float64Array(3), 3)).toBe(true);
    expect(writer.mustRing()).toBe(true); // a new ring's reader sleeps until it first looks
    expect(writer.mustRing()).toBe(false);
    reader.sleep(false);
    expect(writer.mustRing()).toBe(false);
    reader.sleep(true);
    expect(writer.mustRing()).toBe(true);
  });
});

// One message of the mix: words alone (the ring), an object (the port), a moved buffer (the
// port), or many words (the port when the ring is small).
type Kind = "words" | "object" | "moved" | "long";
const kinds: Kind[] = ["words", "object", "moved", "long"];
const to = { cid: 1, cls: "Echo", kind: "array", idx: [0] } as unknown as Extract<Message, { t: "invoke" }>["to"];

function messageOf(kind: Kind, k: number): { msg: Message; transfer?: ArrayBuffer[] } {
  switch (kind) {
    case "words": return { msg: { t: "invoke", to, m: "words", a: [k, true, null] } };
    case "object": return { msg: { t: "invoke", to, m: "object", a: [k, { k }] } };
    case "moved": { const v = Float64Array.of(k); return { msg: { t: "invoke", to, m: "moved", a: [k, v] }, transfer: [v.buffer as ArrayBuffer] }; }
    case "long": return { msg: { t: "invoke", to, m: "long", a: [k, ...Array.from({ length: 120 }, (_, i) => i)] } };
  }
}

/** What came back: each message's number, method and cause. */
const summary = (msg: Message, cause: number): string => {
  if (msg.t !== "invoke") return `unexpected ${msg.t}`;
  const extra = msg.m === "object" ? (msg.a[1] as { k: number }).k : msg.m === "moved" ? (msg.a[1] as Float64Array)[0] : msg.m === "long" ? msg.a.length : "";
  return `${String(msg.a[0])} ${msg.m} ${String(extra)} cause ${cause}`;
};
const expected = (kind: Kind, k: number, cause: number): string => `${k} ${kind} ${kind === "object" || kind === "moved" ? k : kind === "long" ? 121 : ""} cause ${cause}`;

// Each turn's batch leaves when its microtasks are done; a turn that ends there (`micro`) and
// not in the event loop lets the next batches follow while the receiver is still awake (so they
// go into its ring unrung, and a port batch can overtake them in the receiver's event loop).
const turns = fc.array(fc.record({
  messages: fc.array(fc.tuple(fc.constantFrom(...kinds), fc.integer({ min: 0, max: 3 })), { maxLength: 40 }),
  micro: fc.boolean(),
}), { minLength: 1, maxLength: 16 });

describe("the count of awake threads", () => {
  it("is crowded past the cores, counts each thread once, and forgets a thread that ended awake", () => {
    const sab = newAwakeCount(2, 2);
    const [driver, pe0, pe1] = [-1, 0, 1].map((e) => new AwakeCount(sab, e));
    driver!.set(true); pe0!.set(true); pe0!.set(true);
    expect(driver!.crowded()).toBe(false); // 2 awake on 2 cores
    pe1!.set(true);
    expect(pe0!.crowded()).toBe(true);
    forgetThread(sab, 1); // PE 1's thread ended while awake
    expect(pe0!.crowded()).toBe(false);
    pe1!.set(false); // its replacement's first sleep doesn't count it twice out
    driver!.set(false); pe0!.set(false);
    pe1!.set(true); driver!.set(true);
    expect(pe1!.crowded()).toBe(false);
    pe0!.set(true);
    expect(pe1!.crowded()).toBe(true);
  });
});

describe("a peer's inlet", () => {
  // One stream written by hand: 0, 1, 3 and 5 on the port (0 and 1 define the names the others
  // use, so they carry objects), 2 and 4 in the ring.
  const stream = () => {
    const { port1, port2 } = new MessageChannel();
    const sab = newRing(256);
    const ring = new RingWriter(sab);
    const wire = new WireWriter();
    const got: string[] = [];
    const inlet = new PortInlet(port2, (msg, cause) => got.push(summary(msg, cause)));
    inlet.adopt(sab);
    const plan: Kind[] = ["object", "words", "words", "object", "words", "object"];
    plan.forEach((kind, seq) => {
      wire.write(messageOf(kind, seq).msg, 1);
      if (wire.extraCount === 0) {
        expect(ring.write(seq, wire.buffer, wire.size)).toBe(true);
        wire.clear();
      } else port1.postMessage({ ...wire.take()!, s: seq } satisfies PortBatch);
    });
    const want = plan.map((kind, k) => expected(kind, k, 1));
    return { port2, inlet, got, want, close: () => { port1.close(); port2.close(); } };
  };
  const next = (port: MessagePort): PortBatch => receiveMessageOnPort(port)!.message as PortBatch;

  it("a port batch that overtook ring records (a reader awake, not rung) waits for them", () => {
    const { port2, inlet, got, want, close } = stream();
    inlet.fromPort(next(port2));
    inlet.fromPort(next(port2));
    inlet.fromPort(next(port2)); // batch 3: batch 2, in the ring, goes before it
    inlet.pump(); // batch 4; batch 5 is left on the port for its listener
    expect(got).toEqual(want.slice(0, 5));
    inlet.fromPort(next(port2));
    expect(got).toEqual(want);
    close();
  });

  it("ring records past a batch still on the port take that batch from the port first", () => {
    const { port2, inlet, got, want, close } = stream();
    inlet.fromPort(next(port2));
    inlet.fromPort(next(port2));
    inlet.pump(); // 2 from the ring, 3 polled from the port, 4 from the ring
    expect(got).toEqual(want.slice(0, 5));
    close();
  });
});

let echoCode: string | undefined;
async function echoWorker(port: MessagePort, spinUs: number, ringWords: number): Promise<Worker> {
  echoCode ??= (await build({ entryPoints: [new URL("./fixtures/echo-transport.ts", import.meta.url).pathname], bundle: true, write: false, format: "cjs", platform: "node", logLevel: "silent" })).outputFiles[0]!.text;
  return new Worker(echoCode, { eval: true, workerData: { port, spinUs, ringWords }, transferList: [port] });
}
const workers: Worker[] = [];
afterAll(async () => { await Promise.all(workers.map((w) => w.terminate())); });

describe.each([
  ["one thread", false, 0, 64],
  ["two threads", true, 0, 64],
  ["two threads, spinning", true, 50, 64],
  ["two threads, full-size rings, spinning", true, 200, undefined],
] as const)("a stream of mixed batches, %s", (_name, threads, spinUs, ringWords) => {
  it("arrives whole and in order, with its causes", async () => {
    await fc.assert(fc.asyncProperty(turns, async (plan) => {
      const { port1, port2 } = new MessageChannel();
      const got: string[] = [];
      const total = plan.reduce((n, t) => n + t.messages.length, 0);
      let done!: () => void;
      const all = new Promise<void>((resolve) => { done = resolve; });
      const near = new PortTransport(0, new Map([[1, port1]]), spinUs, undefined, ringWords);
      near.listen((msg, cause) => { got.push(summary(msg, cause)); if (got.length === total) done(); });
      let far: PortTransport | undefined;
      if (threads) workers.push(await echoWorker(port2, spinUs, ringWords ?? 1 << 15));
      else {
        far = new PortTransport(1, new Map([[0, port2]]), spinUs, undefined, ringWords);
        far.listen((msg, cause) => far!.send(0, msg, msg.t === "invoke" && msg.a[1] instanceof Float64Array ? [msg.a[1].buffer as ArrayBuffer] : undefined, cause));
      }
      const want: string[] = [];
      let k = 0;
      try {
        for (const turn of plan) {
          for (const [kind, cause] of turn.messages) {
            const { msg, transfer } = messageOf(kind, k);
            near.send(1, msg, transfer, cause);
            want.push(expected(kind, k, cause));
            k++;
          }
          if (turn.micro) await null;
          else await new Promise((resolve) => setImmediate(resolve));
        }
        if (total > 0) await bounded(all, 10_000, `${total} echoed messages (got ${got.length})`);
        expect(got).toEqual(want);
      } finally {
        near.close();
        far?.close();
        if (threads) await workers.pop()!.terminate();
      }
    }), { seed: 2026, numRuns: threads ? 25 : 60 });
  }, 120_000);
});
