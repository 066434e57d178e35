import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future, RemoteError } from "../../runtime/index.ts";
import { Echo } from "./fixtures/basic.ts";
import { TRANSPORTS, over } from "./transports.ts";

const fixtures = new URL("./fixtures/basic.ts", import.meta.url).href;

describe.each(TRANSPORTS)("runtime basics on 2 PEs (%s)", (transport) => {
  beforeAll(() => charm.start({ numPes: 2, modules: [fixtures], ...over(transport) }));
  afterAll(() => charm.shutdown());

  it("calls an element and gets its return value", async () => {
    const arr = charm.array(Echo, 4);
    expect(await arr.at(3).echo.ret("hi")).toBe("hi");
    expect(await arr[2]!.where.ret()).toEqual([2, 1]);
  });

  it("broadcast ret returns values ordered by index", async () => {
    const arr = charm.array(Echo, 6);
    const all = await arr.where.ret();
    expect(all.map((w) => w[0])).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("rejects with a RemoteError naming PE, chare and method", async () => {
    const arr = charm.array(Echo, 2);
    const err = await arr.at(1).fail.ret("boom").then(() => undefined, (e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.pe).toBe(1);
    expect(err.chare).toBe("Echo[1]");
    expect(err.method).toBe("fail");
    expect(err.message).toContain("TypeError: boom");
  });

  it("sums over a reduction into a future", async () => {
    const arr = charm.array(Echo, 10);
    const done = new Future<number>();
    arr.sum(done);
    expect(await done).toBe(45);
  });
});

describe("sparse arrays", () => {
  beforeAll(() => charm.start({ numPes: 2, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it("inserts elements, then reduces over them once insertion is done", async () => {
    const sparse = charm.sparseArray(Echo, { ndims: 1 });
    for (const i of [3, 17, 40]) charm.insert(sparse, i);
    expect(await sparse.at(17).echo.ret(5)).toBe(5);
    await charm.doneInserting(sparse);
    const where = await sparse.where.ret();
    expect(where.map((w) => w[0])).toEqual([3, 17, 40]);
    const done = new Future<number>();
    sparse.sum(done);
    expect(await done).toBe(60);
  });
});

describe("displays", () => {
  beforeAll(() => charm.start({ numPes: 2, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it("shows proxies with placement, futures with state, and the runtime's status", async () => {
    const bundle = Symbol.for("charm4ts.mimeBundle");
    const arr = charm.array(Echo, 6);
    await charm.awaitCreation(arr);
    const text = (arr as any)[bundle]()["text/plain"];
    expect(text).toContain("Proxy<Echo> (array 6)");
    expect(text).toContain("PE 0: 3 elements");
    expect(text).toContain("PE 1: 3 elements");
    const f = arr.at(4).echo.ret(7);
    await f;
    expect((f as any)[bundle]()["text/plain"]).toMatch(/Future #\d+@driver \(resolved\) = 7/);
    const status = await charm.status();
    expect(status.pes.map((p) => p.pe)).toEqual([0, 1]);
    expect(status.chares).toBeGreaterThanOrEqual(6);
    expect((status as any)[bundle]()["text/html"]).toContain("<table>");
  });

  it("shows a chare to its own code as its fields only: the runtime's record stays out of print, spread and keys", async () => {
    const arr = charm.array(Echo, 2);
    await arr.at(1).echo.ret(0);
    const seen = await arr.at(1).shown.ret();
    expect(seen.inspected).toBe("Echo { calls: 1 }");
    expect(seen.spread).toEqual(["calls"]);
    expect(seen.symbols).toBe(0);
    expect(seen.keys).toEqual(["calls"]);
    expect(seen.text).toBe("Echo[1]");
  });

  it("profiles a piece of work: calls, time and argument bytes per entry method, per PE", async () => {
    const arr = charm.array(Echo, 6);
    const stats = await charm.profile(async () => {
      await arr.echo.ret(1);
      await arr.at(5).echo.ret(new Float64Array(1000));
    });
    const echo = stats.methods.find((m) => m.method === "Echo.echo")!;
    expect(echo.calls).toBe(7);
    expect(echo.bytes).toBe(6 * 8 + 8000);
    expect(stats.toString()).toContain("7.9 KiB");
    expect(echo.perPeMs).toHaveLength(2);
    expect(echo.totalMs).toBeGreaterThanOrEqual(echo.maxMs);
    expect(stats.toString()).toMatch(/Echo\.echo\s+7\s/);
    expect((stats as any)[Symbol.for("charm4ts.mimeBundle")]()["text/html"]).toContain("<table>");
  });

  it("draws a timeline of the entry methods a piece of work ran on each PE", async () => {
    const arr = charm.array(Echo, 4);
    const tl = await charm.timeline(async () => {
      const done = new Future<number>();
      arr.sum(done);
      await done;
    });
    const sums = tl.events.filter((e) => e.label === "Echo.sum");
    expect(sums.map((e) => e.pe).sort()).toEqual([0, 0, 1, 1]);
    for (const e of sums) expect(e.end).toBeGreaterThanOrEqual(e.start);
    const shown = (tl as any)[Symbol.for("charm4ts.mimeBundle")]();
    expect(shown["image/svg+xml"]).toMatch(/^<svg[\s\S]*PE 1[\s\S]*Echo\.sum[\s\S]*<\/svg>$/);
    expect(shown["text/plain"]).toContain("PE 0  Echo.sum  ×2");
  });
});
