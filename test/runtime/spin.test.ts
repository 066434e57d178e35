// The spin window (runtime/transport/spin.ts): with PEs polling their ports after handling
// messages, every reply still arrives once and in turn, timers still fire, and a wrong spinUs
// fails at start naming where it was set. (How much faster it is shows in `npm run bench`.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { charm, type ElementProxy } from "../../runtime/index.ts";
import { Relay } from "./fixtures/spin.ts";
import { bounded, runtimeState } from "../bounded.ts";

const modules = [new URL("./fixtures/spin.ts", import.meta.url).href];
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 20_000, what, runtimeState);

describe.each([[2, 0], [2, 200], [3, 200], [5, 1000]])("on %i PEs with spinUs %i", (numPes, spinUs) => {
  beforeAll(() => charm.start({ numPes, modules, spinUs }));
  afterAll(() => charm.shutdown());

  it("chains of ret calls between every pair of neighbouring PEs come back right and in turn", async () => {
    const n = numPes * 2; // block map: elements 2k and 2k+1 on PE k
    const relays = charm.array(Relay, n);
    await waitFor(charm.awaitCreation(relays), `the creation of ${n} relays`);
    const chains = Array.from({ length: n }, (_, i) => relays.at(i).relay.ret(relays.at((i + 2) % n) as ElementProxy<Relay>, 300));
    expect(await waitFor(Promise.all(chains), `${n} chains of 300 ret calls`)).toEqual(new Array(n).fill(300));
  });

  it("replies that wait for a timer on the callee's PE arrive while the caller polls", async () => {
    const relays = charm.array(Relay, numPes * 2);
    const replies = Array.from({ length: 20 }, (_, k) => relays.at(k % (numPes * 2)).afterTimer.ret(k));
    expect(await waitFor(Promise.all(replies), "20 replies after 2 ms timers")).toEqual(Array.from({ length: 20 }, (_, k) => k));
  });
});

describe("a wrong spin window", () => {
  const saved = process.env.CHARM4TS_SPIN_US;
  afterEach(() => {
    if (saved === undefined) delete process.env.CHARM4TS_SPIN_US;
    else process.env.CHARM4TS_SPIN_US = saved;
  });

  it("fails at start naming the option and the variable", async () => {
    await expect(charm.start({ numPes: 2, modules, spinUs: -5 })).rejects.toThrow("spinUs must be a number of µs from 0 (off) to 1000000, got -5 (set it with { spinUs } or CHARM4TS_SPIN_US)");
    process.env.CHARM4TS_SPIN_US = "fast";
    await expect(charm.start({ numPes: 2, modules })).rejects.toThrow("got fast (set it with { spinUs } or CHARM4TS_SPIN_US)");
  });

  it("CHARM4TS_SPIN_US=0 turns it off and the runtime works as before", async () => {
    process.env.CHARM4TS_SPIN_US = "0";
    await charm.start({ numPes: 2, modules });
    try {
      const relays = charm.array(Relay, 4);
      expect(await waitFor(relays.at(0).relay.ret(relays.at(2) as ElementProxy<Relay>, 100), "100 ret calls without spinning")).toBe(100);
    } finally {
      await charm.shutdown();
    }
  });
});
