// A PE that exhausts its heap (bounded by peMaxHeapMb) dies alone and is reported like any dead
// PE, saying it ran out of memory: Node ends a PE thread with ERR_WORKER_OUT_OF_MEMORY, V8 ends
// a PE process (--max-old-space-size) with SIGABRT. Limits stay small so each death is quick.
import { afterEach, describe, expect, it } from "vitest";
import { charm, Future, PeLostError, RemoteError } from "../../runtime/index.ts";
import { maxHeapFrom } from "../../runtime/startup/heap-limit.ts";
import { Hog } from "./fixtures/hungry.ts";
import { TRANSPORTS, over } from "./transports.ts";

const fixtures = new URL("./fixtures/hungry.ts", import.meta.url).href;
const MB = 64;
// A PE process near its heap limit spends its time collecting garbage; on a busy machine that
// may outlast the heartbeat's 2 s, and it would be killed as stuck before it ran out of memory.
const peTimeout = 20;

afterEach(async () => {
  charm.onError(undefined);
  await charm.shutdown();
});

describe.each(TRANSPORTS)("a PE that runs out of memory (%s)", (transport) => {
  it("the call that filled the heap rejects with PeLostError saying so; the other PE answers", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], ...over(transport), peMaxHeapMb: MB });
    const hogs = charm.array(Hog, 2); // element i on PE i
    const reported: RemoteError[] = [];
    charm.onError((e) => reported.push(e));
    const err = await hogs.at(1).eat.ret().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PeLostError);
    expect((err as PeLostError).pe).toBe(1);
    expect((err as Error).message).toMatch(/^PE 1 ran out of memory\b.*heap limit 64 MB.*; Hog\[1\]\.eat was waiting on it and may or may not have run\./);
    expect(() => hogs.at(1).where.ret()).toThrow(/^PE 1 ran out of memory.*Hog\[1\]\.where\(\) can't reach it/);
    expect(await hogs.at(0).where.ret()).toBe(0);
    expect(reported).toEqual([]); // heard through the call's PeLostError: not reported besides
  });

  it("a reduction over an array spanning the PE, and a broadcast to it, reject instead of hanging", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], ...over(transport), peMaxHeapMb: MB });
    charm.onError(() => undefined); // the death is also reported; this test looks at the futures
    const hogs = charm.array(Hog, 4); // 0, 1 on PE 0; 2, 3 on PE 1
    const total = new Future<number>();
    hogs.at(0).add(total);
    hogs.at(1).add(total); // PE 0's half is in: the reduction waits on PE 1
    await expect(hogs.at(3).eat.ret()).rejects.toThrow(PeLostError);
    await expect(total).rejects.toThrow(/^PE 1 ran out of memory/);
    expect(() => hogs.where.ret()).toThrow(PeLostError); // a broadcast needs every PE
    expect(await hogs.at(1).where.ret()).toBe(0);
  });
});

describe("restarting a PE thread that ran out of memory", () => {
  it("charm.restartPe(1) brings a fresh PE, bounded like the first", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], peMaxHeapMb: MB });
    charm.onError(() => undefined);
    await expect(charm.array(Hog, 2).at(1).eat.ret()).rejects.toThrow(/^PE 1 ran out of memory/);
    await charm.restartPe(1, "ran out of memory (test)");
    const fresh = charm.array(Hog, 2);
    expect(await fresh.where.ret()).toEqual([0, 1]);
    await expect(fresh.at(1).eat.ret()).rejects.toThrow(/^PE 1 ran out of memory/);
    expect(await fresh.at(0).where.ret()).toBe(0);
  });
});

describe("the heap limit's setting", () => {
  it("peMaxHeapMb must be a whole number of megabytes, at least 16", async () => {
    await expect(charm.start({ numPes: 1, modules: [fixtures], peMaxHeapMb: 8 })).rejects.toThrow("peMaxHeapMb is 8: the PE heap limit must be a whole number of megabytes, at least 16");
  });

  it("CHARM4TS_PE_MAX_HEAP_MB sets it when the option doesn't; the option wins", () => {
    expect(maxHeapFrom(undefined, { CHARM4TS_PE_MAX_HEAP_MB: "128" })).toBe(128);
    expect(maxHeapFrom(96, { CHARM4TS_PE_MAX_HEAP_MB: "128" })).toBe(96);
    expect(maxHeapFrom(undefined, {})).toBeUndefined();
    expect(() => maxHeapFrom(undefined, { CHARM4TS_PE_MAX_HEAP_MB: "lots" })).toThrow("CHARM4TS_PE_MAX_HEAP_MB=lots: the PE heap limit");
  });
});
