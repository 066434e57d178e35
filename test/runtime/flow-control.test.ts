// Flow control between PE processes: 10^5 messages of 1 KiB to a PE whose event loop is busy.
// ZeroMQ holds at most a window in flight toward it; a producer that awaits charm.drained()
// holds at most a batch or two; memory stays bounded; all arrive, in order, once it resumes.
import { afterEach, describe, expect, it } from "vitest";
import { charm } from "../../runtime/index.ts";
import { Producer, Sink } from "./fixtures/flow.ts";

const fixtures = new URL("./fixtures/flow.ts", import.meta.url).href;
const MiB = 1024 * 1024;
const N = 100_000;
const FLOATS = 128; // 1 KiB a message: ~100 MiB in all
const WINDOW = 4 * MiB; // credit.ts's default

afterEach(async () => {
  charm.onError(undefined);
  await charm.shutdown();
});

/** PE 0 produces for a sink on PE 1, which is busy for the first 2 s (a peTimeout lets it). */
async function run(drain: boolean) {
  await charm.start({ numPes: 2, modules: [fixtures], transport: "processes", peTimeout: 10 });
  const sink = charm.chare(Sink, [], { onPe: 1 });
  const producer = charm.chare(Producer, [], { onPe: 0 });
  await sink.result.ret(0); // created
  await sink.stallSoon.ret(2000);
  const produced = await producer.produce.ret(sink, N, FLOATS, drain);
  const received = await sink.result.ret(N);
  const [pe0] = (await charm.status()).pes;
  return { produced, received, flow: pe0!.flow! };
}

describe("flow control between PE processes", () => {
  it("a producer that awaits charm.drained() stays within a window in flight and a batch held; memory is bounded; all arrive in order", async () => {
    const { produced, received, flow } = await run(true);
    expect(received).toMatchObject({ taken: N, outOfOrder: 0 });
    // what ZeroMQ may queue toward the busy PE: the window and one batch (512 messages)
    expect(flow.peakInFlight).toBeLessThanOrEqual(WINDOW + MiB);
    expect(flow.peakHeld).toBeLessThanOrEqual(2 * MiB);
    expect(flow).toMatchObject({ inFlight: expect.any(Number), held: 0 });
    // memory in use (after a collection) grows by a small fraction of the ~100 MiB that passed,
    // and the process's RSS by less than that: nothing grows with the number of messages
    expect(produced.peakLive - produced.before.live).toBeLessThan(32);
    expect(produced.peakRss - produced.before.rss).toBeLessThan(N * FLOATS * 8 / MiB);
    expect(produced.ms).toBeGreaterThan(1000); // the producer waited for the busy PE
  });

  it("without awaiting, messages wait in the sender (encoded, in order) and ZeroMQ still holds at most a window", async () => {
    const { produced, received, flow } = await run(false);
    expect(received).toMatchObject({ taken: N, outOfOrder: 0 });
    expect(flow.peakInFlight).toBeLessThanOrEqual(WINDOW + MiB);
    expect(flow.peakHeld).toBeGreaterThan(50 * MiB); // most of the stream waited here, sending never blocked
    expect(produced.peakLive - produced.before.live).toBeGreaterThan(50); // what a producer that doesn't await pays
  });
});

describe("charm.drained", () => {
  it("resolves at once over threads (MessagePorts have no flow control) and checks its PE number", async () => {
    await charm.start({ numPes: 2, modules: [fixtures] });
    await charm.drained();
    await charm.drained(1);
    expect(() => charm.drained(2)).toThrow("charm.drained(pe): pe must be a PE number in 0…1 (or -1, the driver)");
  });
});
