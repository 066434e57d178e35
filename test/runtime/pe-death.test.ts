// A PE that dies after start-up (process.exit) rejects the calls waiting on it; one nothing
// waited on is reported as a lost PE; the other PEs and the driver carry on. An exception outside any entry method is reported
// the same way, but kills nothing.
import { afterEach, describe, expect, it } from "vitest";
import { charm, Future, PeLostError, RemoteError } from "../../runtime/index.ts";
import { Counter, Dier, Spinner } from "./fixtures/dying.ts";
import { TRANSPORTS, over } from "./transports.ts";
import { within } from "./within.ts";
import { clearDefinitions } from "../../runtime/definitions/ship.ts";

const fixtures = new URL("./fixtures/dying.ts", import.meta.url).href;

afterEach(async () => {
  charm.onError(undefined);
  await charm.shutdown();
});

function nextError(): Promise<RemoteError> {
  return new Promise((resolve) => charm.onError(resolve));
}

describe.each(TRANSPORTS)("a PE that dies (%s)", (transport) => {
  it("an exception thrown from a timer on a PE is reported with the PE, which lives on", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], ...over(transport) });
    const arr = charm.array(Dier, 2);
    const reported = nextError();
    arr.at(1).throwLater();
    const err = await reported;
    expect(err.pe).toBe(1);
    expect(err.message).toContain("uncaught outside any entry method (a timer or callback): thrown from a timer on a PE");
    expect(await arr.ok.ret()).toEqual([1, 1]);
  });

  it("process.exit in a chare nothing waited on is reported as a lost PE, with its exit code", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], ...over(transport) });
    const arr = charm.array(Dier, 2);
    const reported = nextError();
    arr.at(1).exitThread(7);
    const err = await reported;
    expect(err.pe).toBe(1);
    expect(err.message).toMatch(/PE 1 was lost \(exited with code 7(, [^)]*)?\); nothing was waiting on it/);
    expect(await arr.at(0).ok.ret()).toBe(1);
  });

  it.each([2, 3, 5])("quiescence detection waiting on a PE when it dies goes on without it (%i PEs)", async (numPes) => {
    await charm.start({ numPes, modules: [fixtures], ...over(transport) });
    charm.onError(() => undefined);
    const last = charm.chare(Dier, [], { onPe: numPes - 1 });
    expect(await last.ok.ret()).toBe(1);
    last.exitThread(9);
    // The wave's probe reaches the last PE behind the call that ends it: it never answers. The
    // wave was then waited on for good (and with it every waitQD, the notebook's hang check, a
    // checkpoint); now a death starts the wave again without the dead PE.
    await within(charm.waitQD(), 20_000, `charm.waitQD() after PE ${numPes - 1} died while a quiescence wave waited on it`);
    expect(await charm.chare(Dier, [], { onPe: 0 }).ok.ret()).toBe(1);
  });

  it("a normal shutdown reports nothing", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], ...over(transport) });
    const errors: RemoteError[] = [];
    charm.onError((e) => errors.push(e));
    expect(await charm.array(Dier, 2).ok.ret()).toEqual([1, 1]);
    await charm.shutdown();
    expect(errors).toEqual([]);
  });
});

describe("what a dead PE takes with it (worker threads)", () => {
  it("a call waiting on the PE rejects with PeLostError naming it; later calls to its chares fail at once", async () => {
    await charm.start({ numPes: 2, modules: [fixtures] });
    const reported: RemoteError[] = [];
    charm.onError((e) => reported.push(e));
    const arr = charm.array(Dier, 2);
    const dying = arr.at(1).exitThread.ret(3);
    const err = await dying.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PeLostError);
    expect((err as PeLostError).pe).toBe(1);
    expect((err as Error).message).toMatch(/^PE 1 exited with code 3; Dier\[1\]\.exitThread was waiting on it and may or may not have run\. The PE's chares are lost: charm\.restart\(\)/);
    expect(() => arr.at(1).ok.ret()).toThrow(/PE 1 exited with code 3; Dier\[1\]\.ok\(\) can't reach it/);
    expect(() => arr.ok.ret()).toThrow(PeLostError); // a broadcast needs every PE
    expect(await arr.at(0).ok.ret()).toBe(1); // the other PE carries on
    await charm.waitQD(); // quiescence is still detected: the dead PE's traffic is left out
    expect(reported).toEqual([]); // heard through the call's PeLostError: not reported besides
  });

  it.each([2, 3])("answers of the live PEs to a query of every PE, after the query was rejected for a dead one, are expected, not reported (%i PEs)", async (numPes) => {
    await charm.start({ numPes, modules: [fixtures] });
    const reported: RemoteError[] = [];
    charm.onError((e) => reported.push(e));
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const held = charm.chare(Dier, [], { onPe: 0 });
    await held.ok.ret();
    held.holdUntil(flag);
    // Every PE evaluates the script and answers; the last one ends instead, and PE 0 answers
    // only after that (it was held): its answer came for a future rejected already, and was
    // reported as "FutureError: a value arrived for future …" (seen in a notebook, at random).
    try {
      await charm.define(`if (charm.myPe() === charm.numPes() - 1) process.exit(5);`);
    } finally {
      clearDefinitions(); // PEs of later tests must not replay it
    }
    Atomics.store(flag, 0, 1);
    await charm.waitQD(); // PE 0's answer has arrived
    // The loss itself is news (only the runtime's own query waited on it); the late answer is not.
    expect(reported.map((e) => e.message)).toEqual([expect.stringMatching(/^PeLostError: PE \d was lost \(exited with code 5\); nothing was waiting on it/)]);
  });

  it("a reduction left waiting on the dead PE rejects instead of hanging", async () => {
    await charm.start({ numPes: 2, modules: [fixtures] });
    charm.onError(() => undefined);
    const counters = charm.array(Counter, 4);
    const dier = charm.array(Dier, 2);
    const total = new Future<number>();
    counters.at(0).add(total); // one of four: the reduction waits
    await charm.awaitCreation(dier);
    dier.at(1).exitThread(1);
    await expect(total).rejects.toThrow(PeLostError);
  });

  it("charm.restart() after a PE died gives a working runtime", async () => {
    await charm.start({ numPes: 2, modules: [fixtures] });
    charm.onError(() => undefined);
    const arr = charm.array(Dier, 2);
    await expect(arr.at(1).exitThread.ret(0)).rejects.toThrow(PeLostError);
    await charm.restart();
    expect(await charm.array(Dier, 2).ok.ret()).toEqual([1, 1]);
  });

  it("a proxy kept from before charm.restart() says its chares are gone; it never reaches the new run's collections", async () => {
    await charm.start({ numPes: 2, modules: [fixtures] });
    const before = charm.array(Dier, 2);
    const single = charm.chare(Dier, [], { onPe: 1 });
    const oldSpinners = charm.array(Spinner, 2);
    expect(await before.ok.ret()).toEqual([1, 1]);
    await charm.restart();
    // The new run's first collections, made in the same order as the old ones.
    const after = charm.array(Dier, 2);
    charm.chare(Dier, [], { onPe: 1 });
    expect(() => before.at(1).ok.ret()).toThrow(/Dier\[1\]\.ok\(\): this proxy is from before the runtime restarted \(charm\.restart\), and its chares are gone\. Create the array again/);
    expect(() => before.ok()).toThrow(/Dier\(array 2\)\.ok\(\): this proxy is from before the runtime restarted/);
    expect(() => single.ok()).toThrow(/Create the chare again/);
    // Handed to a chare of the new run (a notebook cell run again without the one that made it).
    const spinners = charm.array(Spinner, 2);
    expect(() => spinners.at(0).callOther(oldSpinners.at(1))).toThrow(/Spinner\.callOther\(\): .*Spinner\[1\] \(sent in a message\): this proxy is from before the runtime restarted/);
    expect(() => spinners.at(0).callOther(oldSpinners.at(1).where as never)).toThrow(/Spinner\[1\]\.where \(sent in a message\): this proxy is from before/);
    expect(await spinners.at(0).callOther.ret(spinners.at(1))).toBe("1");
    expect(await after.ok.ret()).toEqual([1, 1]);
  });
});

describe("restarting one PE in place (worker threads)", () => {
  it("stops a PE in an endless loop; only its chares are lost, the rest carries on", async () => {
    await charm.start({ numPes: 2, modules: [fixtures] });
    charm.onError(() => undefined);
    const spinners = charm.array(Spinner, 4); // 0, 1 on PE 0; 2, 3 on PE 1
    const keeper = charm.chare(Spinner, [], { onPe: 0 });
    await charm.awaitCreation(spinners);
    const stuck = spinners.at(3).spin.ret();
    await charm.restartPe(1, "did not answer (test)");
    await expect(stuck).rejects.toThrow(/^PE 1 did not answer \(test\); Spinner\[3\]\.spin was waiting on it/);
    expect(await spinners.at(0).where.ret()).toBe(0); // its PE lived on
    expect(await keeper.where.ret()).toBe(0);
    expect(() => spinners.at(2).where.ret()).toThrow(/PE 1 was restarted \(did not answer \(test\)\), and the chares it held were lost; Spinner\[2\]\.where\(\) needs a chare that was there/);
    expect(() => spinners.where.ret()).toThrow(PeLostError);
    expect(await spinners.at(1).callOther.ret(spinners.at(2))).toBe("PeLostError"); // from PE 0 too
    const fresh = charm.array(Spinner, 4); // new collections use the new PE
    expect(await fresh.where.ret()).toEqual([0, 1, 2, 3]);
    expect(await charm.chare(Spinner, [], { onPe: 1 }).where.ret()).toBe(0);
    await charm.waitQD(); // the old PE's unanswered messages don't count against quiescence
  });

  it.each([2, 3, 5])("a quiescence wave waiting on the stuck PE goes on once it is restarted (%i PEs)", async (numPes) => {
    await charm.start({ numPes, modules: [fixtures] });
    charm.onError(() => undefined);
    const stuck = charm.chare(Spinner, [], { onPe: numPes - 1 });
    const spinning = stuck.spin.ret().then(() => undefined, () => undefined);
    // A waiter from before the restart (the notebook's hang check has one during every await): its
    // wave's probe sits behind the endless loop, and after the restart it was waited on for good.
    const quiet = charm.waitQD();
    await charm.restartPe(numPes - 1, "did not answer (test)");
    await within(quiet, 20_000, "the waitQD from before the restart");
    await within(charm.waitQD(), 20_000, "a waitQD after the restart");
    expect(await charm.chare(Spinner, [], { onPe: numPes - 1 }).where.ret()).toBe(0); // the new PE answers
    await spinning;
  });
});
