// PE threads started ahead of their driver (the kernel starts them from its main thread while
// the cell thread, their driver, loads): adopted by the next local start that fits, handed their
// setup then, watched like the driver's own threads, and never left running without a driver.
import { afterEach, expect, it } from "vitest";
import type { Worker } from "node:worker_threads";
import { charm, RemoteError } from "../../runtime/index.ts";
import { discardPrestarted, offerPrestarted, prestartPeThreads } from "../../runtime/driver/prestart.ts";
import { Origin } from "./fixtures/prestart.ts";

const fixtures = new URL("./fixtures/prestart.ts", import.meta.url).href;

afterEach(async () => {
  charm.onError(undefined);
  await charm.shutdown();
  discardPrestarted();
});

/** Offers `numPes` threads started ahead; resolves, per thread, once it has exited. */
function offer(numPes: number): Array<Promise<number>> {
  const started = prestartPeThreads(numPes)!;
  offerPrestarted(started.handoff);
  return started.workers.map((w: Worker) => new Promise<number>((resolve) => w.once("exit", resolve)));
}

it("a start of as many PEs adopts the threads, gives them the program, and stops them at shutdown", async () => {
  const exits = offer(2);
  await charm.start({ numPes: 2, modules: [fixtures] });
  const origins = charm.array(Origin, 2);
  expect(await origins.started.ret()).toEqual(["ahead", "ahead"]);
  await charm.shutdown();
  await Promise.all(exits); // the holder's Worker objects saw them end
});

it("a start of another number of PEs starts its own, and the threads offered end", async () => {
  const exits = offer(2);
  await charm.start({ numPes: 3, modules: [fixtures] });
  await Promise.all(exits);
  expect(await charm.array(Origin, 3).started.ret()).toEqual(["by the driver", "by the driver", "by the driver"]);
});

it("an adopted PE restarts in place as a thread of the driver, and the held one ends", async () => {
  const exits = offer(2);
  await charm.start({ numPes: 2, modules: [fixtures] });
  const before = await charm.array(Origin, 2).thread.ret();
  await charm.restartPe(1, "restarted by a test");
  expect(await exits[1]).toBeTypeOf("number");
  const after = charm.array(Origin, 2);
  expect(await after.started.ret()).toEqual(["ahead", "by the driver"]);
  const threads = await after.thread.ret();
  expect(threads[0]).toBe(before[0]);
  expect(threads[1]).not.toBe(before[1]);
});

it("an adopted PE that dies is reported with its PE, as any PE thread is", async () => {
  offer(2);
  await charm.start({ numPes: 2, modules: [fixtures] });
  const reported = new Promise<RemoteError>((resolve) => charm.onError(resolve));
  const origins = charm.array(Origin, 2);
  await origins.started.ret();
  origins.at(1).exit(9);
  const err = await reported;
  expect(err.pe).toBe(1);
  expect(err.message).toContain("PE 1 was lost (exited with code 9)");
  expect(await origins.at(0).started.ret()).toBe("ahead");
});

it("threads no start takes end when the offer is dropped (their driver is gone)", async () => {
  const exits = offer(2);
  discardPrestarted();
  expect(await Promise.all(exits)).toHaveLength(2);
});
