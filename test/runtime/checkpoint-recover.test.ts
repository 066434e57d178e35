// In-memory checkpoints and charm.recover(): each PE keeps its part and its buddy's; a PE lost
// after the checkpoint (a PE process killed with SIGKILL, or a PE thread restarted in place)
// loses its chares, the calls waiting on it reject saying recovery is possible, and
// charm.recover() brings a replacement up and rolls every element back to the checkpoint; the
// run then ends exactly where an uninterrupted one does.
import { afterEach, describe, expect, it } from "vitest";
import { charm, Future, PeLostError } from "../../runtime/index.ts";
import { Walker } from "./fixtures/checkpoint.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { TRANSPORTS, over } from "./transports.ts";

const fixtures = new URL("./fixtures/checkpoint.ts", import.meta.url).href;
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 30_000, what, runtimeState);
const N = 9;
afterEach(() => charm.shutdown());

type Walkers = ReturnType<typeof charm.array<typeof Walker>>;

/** Advances every walker `n` steps; each one's state summed, in index order. */
async function advance(walkers: Walkers, n: number): Promise<number[]> {
  const done = new Future<number[]>();
  walkers.advance(n, done);
  return waitFor(done, `${n} more steps`);
}

describe.each([
  ["processes", "a PE process killed with SIGKILL"],
  ["threads", "a PE thread restarted in place"],
] as const)("charm.recover() over %s after %s", (transport, _how) => {
  it("rolls every element back to the in-memory checkpoint; the run ends as an uninterrupted one", async () => {
    await charm.start({ numPes: 3, transport, modules: [fixtures] });
    await expect(charm.recover()).rejects.toThrow(/there is no in-memory checkpoint to go back to/);
    let walkers = charm.array(Walker, N);
    await advance(walkers, 10);
    const saved = await waitFor(charm.checkpoint({ inMemory: true }, { walkers }), "the in-memory checkpoint");
    expect(saved).toMatchObject({ dir: "(in memory)", pes: 3, elements: N });
    await advance(walkers, 5); // work after the checkpoint, lost with the rollback
    const lost = 1;
    if (transport === "processes") {
      const pid = (await waitFor(charm.status(), "charm.status()")).pes[lost]!.pid;
      process.kill(pid, "SIGKILL");
    } else {
      await charm.restartPe(lost);
    }
    // A call to an element of the lost PE fails (at once, once the loss is known), and says what can be done.
    const onLost = (async () => walkers.at(N / 3 + 1).where.ret())();
    await expect(waitFor(onLost, "a call to an element of the lost PE to fail")).rejects.toThrow(PeLostError);
    await expect(onLost).rejects.toThrow(/charm\.recover\(\) goes back to the last in-memory checkpoint/);
    const r = await waitFor(charm.recover<{ walkers: Walkers }>(), "charm.recover()");
    // The proxy from before says to use the ones recover() resolved with.
    expect(() => walkers.where.ret()).toThrow(/from before charm\.recover\(\) restarted the runtime.*Use those charm\.recover\(\) resolved with/);
    walkers = r.walkers;
    const where = await waitFor(walkers.where.ret(), "where every walker is after recovery");
    expect(where.map((w) => w.steps)).toEqual(new Array(N).fill(10));
    expect(new Set(where.map((w) => w.pe))).toEqual(new Set([0, 1, 2]));
    const resumed = await advance(walkers, 20);
    const straight = charm.array(Walker, N);
    expect(await advance(straight, 30)).toEqual(resumed);
  }, 120_000);
});

// Every transport: parts shared between threads, copied between processes, both in one runtime.
describe.each(TRANSPORTS)("charm.recover() over %s, PE 2 lost", (transport) => {
  it("after four in-memory checkpoints (each PE writing into the memory of its part from two before), goes back to the newest", async () => {
    await charm.start({ numPes: 3, modules: [fixtures], ...over(transport) });
    let walkers = charm.array(Walker, N);
    for (const steps of [10, 15, 20, 25]) {
      await advance(walkers, steps === 10 ? 10 : 5);
      await waitFor(charm.checkpoint({ inMemory: true }, { walkers }), `the in-memory checkpoint at step ${steps}`);
    }
    await advance(walkers, 3);
    if (transport !== "threads") process.kill((await waitFor(charm.status(), "charm.status()")).pes[2]!.pid, "SIGKILL");
    else await charm.restartPe(2);
    await expect(waitFor((async () => walkers.at(N - 1).where.ret())(), "a call to an element of the lost PE to fail")).rejects.toThrow(PeLostError);
    walkers = (await waitFor(charm.recover<{ walkers: Walkers }>(), "charm.recover()")).walkers;
    expect((await waitFor(walkers.where.ret(), "where every walker is after recovery")).map((w) => w.steps)).toEqual(new Array(N).fill(25));
    const resumed = await advance(walkers, 5);
    expect(await advance(charm.array(Walker, N), 30)).toEqual(resumed);
  }, 120_000);
});
