// A PE lost while a chare on another PE waits on it: that chare's call rejects with PeLostError
// there, so the program heard of the loss, and the driver must not report it besides as one
// "nothing was waiting on" (nor end a script for it). The driver used to count only its own
// futures. A loss nobody anywhere waited on is still reported, also when a PE it asks is lost
// meanwhile or never answers.
import { afterEach, describe, expect, it } from "vitest";
import { charm, Future, type RemoteError } from "../../runtime/index.ts";
import { Watcher } from "./fixtures/heard-on-pe.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { over } from "./transports.ts";

const fixtures = new URL("./fixtures/heard-on-pe.ts", import.meta.url).href;
const NUM_PES = 3;
const LOST = 2;

afterEach(async () => {
  charm.onError(undefined);
  await charm.shutdown();
});

type Watchers = ReturnType<typeof charm.array<typeof Watcher>>;

/** What the driver reports, as it comes; `next(what)` waits (bounded) for a report matching `what`. */
function reports(): { got: string[]; next(what: RegExp): Promise<string> } {
  const got: string[] = [];
  let waiter: (() => void) | undefined;
  charm.onError((e: RemoteError) => { got.push(e.message); waiter?.(); });
  const next = (what: RegExp) => bounded(new Promise<string>((resolve) => {
    const look = () => { const m = got.find((g) => what.test(g)); if (m !== undefined) resolve(m); };
    waiter = look;
    look();
  }), 20_000, `a report matching ${what}; got ${JSON.stringify(got)}`, runtimeState);
  return { got, next };
}

/** One watcher per PE; element i is on PE i (checked), with its process id. */
async function watchers(): Promise<{ w: Watchers; pids: number[] }> {
  const w = charm.array(Watcher, NUM_PES);
  const where = await bounded(w.where.ret(), 10_000, "where every watcher is", runtimeState);
  expect(where.map(([pe]) => pe)).toEqual([0, 1, 2]);
  return { w, pids: where.map(([, pid]) => pid) };
}

/** Loses PE `pe`: its thread exits, or its process is killed with SIGKILL. */
function lose(transport: "threads" | "processes", w: Watchers, pids: number[], pe: number): void {
  if (transport === "threads") w.at(pe).exitPe(3);
  else process.kill(pids[pe]!, "SIGKILL");
}

describe.each(["threads", "processes"] as const)("a PE lost while a chare elsewhere waits on it (%s)", (transport) => {
  it("the chare on PE 0 catches its PeLostError, and the driver reports nothing", async () => {
    await charm.start({ numPes: NUM_PES, modules: [fixtures], ...over(transport) });
    const { got } = reports();
    const { w, pids } = await watchers();
    const waiting = new Future<number>();
    const caught = w.at(0).watch.ret(w.at(LOST), waiting);
    expect(await bounded(waiting, 10_000, "PE 0's watcher to wait on the lost PE", runtimeState)).toBe(0);
    lose(transport, w, pids, LOST);
    const said = await bounded(caught, 10_000, "PE 0's watcher to catch the PeLostError", runtimeState);
    expect(said).toMatch(new RegExp(`^PeLostError: PE ${LOST} .*Watcher\\[${LOST}\\]\\.stall was waiting on it`));
    // The runtime isn't quiet while the driver asks the PEs whether they heard: it has decided now.
    await bounded(charm.waitQD(), 10_000, "quiescence after the loss", runtimeState);
    expect(await bounded(w.at(1).where.ret(), 10_000, "PE 1's watcher to answer", runtimeState)).toEqual([1, pids[1]]);
    expect(got).toEqual([]);
  });

  it("nothing waits on it anywhere: the loss is reported", async () => {
    await charm.start({ numPes: NUM_PES, modules: [fixtures], ...over(transport) });
    const { next } = reports();
    const { w, pids } = await watchers();
    lose(transport, w, pids, LOST);
    expect(await next(new RegExp(`PE ${LOST} was lost`))).toMatch(/; nothing was waiting on it; its chares are lost\./);
  });

  it("a chare waiting on another PE doesn't hear of it: the loss is reported", async () => {
    await charm.start({ numPes: NUM_PES, modules: [fixtures], ...over(transport) });
    const { next } = reports();
    const { w, pids } = await watchers();
    const waiting = new Future<number>();
    const caught = w.at(0).watch.ret(w.at(1), waiting);
    await bounded(waiting, 10_000, "PE 0's watcher to wait on PE 1", runtimeState);
    lose(transport, w, pids, LOST);
    expect(await next(new RegExp(`PE ${LOST} was lost`))).toMatch(/; nothing was waiting on it/);
    lose(transport, w, pids, 1);
    expect(await bounded(caught, 10_000, "PE 0's watcher to catch PE 1's loss", runtimeState)).toMatch(/^PeLostError: PE 1 /);
  });
});

describe("a PE lost while the driver asks another that stops answering", () => {
  it("processes: the heartbeat finds that PE lost, so it didn't hear; the first loss is reported without waiting longer", async () => {
    await charm.start({ numPes: NUM_PES, modules: [fixtures], ...over("processes") });
    const { next } = reports();
    const { w, pids } = await watchers();
    w.at(1).spin(); // PE 1 takes no message from now on: the driver's question waits there
    lose("processes", w, pids, LOST);
    // Found lost by the heartbeat (silent 2 s), not given up on after the answer's wait: no PE is named as silent.
    expect(await next(new RegExp(`PE ${LOST} was lost`))).toMatch(/; nothing was waiting on it; its chares are lost\./);
    expect(await next(/PE 1 was lost/)).toMatch(/stopped answering/);
  });

  it("threads: a restart that asks a PE which then dies itself finishes (that PE's death answers for it)", async () => {
    await charm.start({ numPes: NUM_PES, modules: [fixtures] });
    const { w } = await watchers();
    w.at(1).spin();
    w.at(LOST).spin(); // takes no message from now on: the restart of PE 1 asks it and waits
    const first = bounded(charm.restartPe(1), 20_000, "PE 1's thread to restart", runtimeState);
    await bounded(charm.restartPe(LOST), 20_000, `PE ${LOST}'s thread to restart`, runtimeState);
    await first;
    expect(() => w.where.ret()).toThrow(/was restarted .*the chares it held were lost/); // the watchers on PEs 1 and 2 were lost with them
    expect(await bounded(w.at(0).where.ret(), 10_000, "PE 0's watcher after the restarts", runtimeState)).toEqual([0, process.pid]);
  });

  it("threads: nothing finds a stuck PE thread lost; the loss is reported all the same, in bounded time, saying which PE didn't answer", async () => {
    await charm.start({ numPes: NUM_PES, modules: [fixtures] });
    const { next } = reports();
    const { w, pids } = await watchers();
    w.at(1).spin(); // for good: nothing ends a PE thread that stops answering
    lose("threads", w, pids, LOST);
    expect(await next(new RegExp(`PE ${LOST} was lost`))).toMatch(/; nothing was waiting on it \(PE 1 didn't answer[^)]*\); its chares are lost\./);
  });
});
