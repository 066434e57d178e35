// Scheduling: a chare that messages itself forever doesn't starve other messages or timers;
// messages from one sender arrive in the order sent, element calls and broadcasts mixed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm } from "../../runtime/index.ts";
import { Spinner } from "./fixtures/scheduling.ts";

const fixtures = new URL("./fixtures/scheduling.ts", import.meta.url).href;

beforeAll(() => charm.start({ numPes: 2, modules: [fixtures] }));
afterAll(() => charm.shutdown());

describe("scheduling", () => {
  it("a chare messaging itself forever doesn't starve other messages, replies or timers on its PE", async () => {
    const arr = charm.array(Spinner, 4); // 0,1 on PE 0; 2,3 on PE 1
    arr.at(0).spin();
    arr.at(2).spin();
    expect(await arr.at(1).ping.ret()).toBe("pong from 1 on PE 0");
    expect(await arr.at(3).ping.ret()).toBe("pong from 3 on PE 1");
    expect(await arr.at(1).nap.ret()).toBe("rested");
    expect(await arr.at(3).nap.ret()).toBe("rested");
    const counts = await Promise.all([arr.at(0).stop.ret(), arr.at(2).stop.ret()]);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
    await charm.waitQD();
  });

  it("a chare stepping itself with long steps lets other messages in between steps, not after hundreds of them", async () => {
    const arr = charm.array(Spinner, 4); // 2 and 3 on PE 1
    arr.at(2).grind(40);
    // Once it has started: the next call waits behind at most a step or two (512 of them, 20 s, before).
    while ((await arr.at(3).grinds.ret()) === 0);
    const before = await arr.at(3).grinds.ret();
    const after = await arr.at(3).grinds.ret();
    expect(after - before).toBeLessThanOrEqual(3);
    expect(await arr.at(2).stop.ret()).toBeGreaterThan(0);
    await charm.waitQD();
  });

  it("100,000 self-messages complete, then quiescence", async () => {
    const arr = charm.array(Spinner, 2);
    arr.at(1).countdown(100_000);
    await charm.waitQD();
    expect(await arr.at(1).stop.ret()).toBe(100_001);
  });

  it("messages from one sender arrive in order, element calls and broadcasts mixed", async () => {
    const arr = charm.array(Spinner, 4);
    for (let i = 0; i < 30; i++) {
      if (i % 3 === 1) arr.note(i);
      else arr.at(2).note(i);
    }
    const fromDriver = await arr.at(2).notes.ret();
    expect(fromDriver).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(await arr.at(0).notes.ret()).toEqual(Array.from({ length: 10 }, (_, k) => 3 * k + 1));
    // from a chare on PE 0: to an element on its own PE (1) and on the other PE (3)
    const b = charm.array(Spinner, 4);
    await b.at(0).sendMixed.awaitable(b.at(1), 0, 30);
    await b.at(0).sendMixed.awaitable(b.at(3), 100, 30);
    await charm.waitQD();
    const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
    const broadcasts = (from: number) => range(from, 30).filter((x) => (x - from) % 3 === 1);
    // element 1 (the sender's PE): all of run 1, then run 2's broadcasts
    expect(await b.at(1).notes.ret()).toEqual([...range(0, 30), ...broadcasts(100)]);
    // element 3 (the other PE): run 1's broadcasts, then all of run 2
    expect(await b.at(3).notes.ret()).toEqual([...broadcasts(0), ...range(100, 30)]);
  });
});
