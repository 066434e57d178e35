// charm.destroy(proxy): the explicit end of a collection. Its elements and everything the PEs
// kept about it are dropped (a loop that creates and destroys arrays keeps nothing), and calls
// that still come for it fail saying it was destroyed — on 3 PEs, over threads and processes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, RemoteError } from "../../runtime/index.ts";
import { Where } from "./fixtures/collections.ts";
import { Mover } from "./fixtures/migration.ts";
import { over, type TransportName } from "./transports.ts";
import { bounded } from "../bounded.ts";

const fixtures = [new URL("./fixtures/collections.ts", import.meta.url).href, new URL("./fixtures/migration.ts", import.meta.url).href];
const transports: TransportName[] = ["threads", "processes"];

async function kept(): Promise<{ chares: number; collections: number }> {
  const status = await bounded(charm.status(), 10_000, "charm.status()");
  return { chares: status.chares, collections: status.pes.reduce((n, p) => n + p.collections, 0) };
}

describe.each(transports)("charm.destroy over %s", (transport) => {
  beforeAll(() => charm.start({ numPes: 3, modules: fixtures, ...over(transport) }), 60_000);
  afterAll(() => charm.shutdown());

  it("a loop creating and destroying arrays leaves nothing behind on any PE", async () => {
    const before = await kept();
    for (let round = 0; round < 40; round++) {
      const array = charm.array(Where, 100, { args: [`round ${round}`] });
      expect((await array.where.ret()).length).toBe(100);
      expect(await bounded(charm.destroy(array), 10_000, `charm.destroy of round ${round}'s array`)).toBe(100);
    }
    expect(await kept()).toEqual(before);
  });

  it("calls to a destroyed collection fail saying so, and other collections carry on", async () => {
    const gone = charm.array(Where, 6);
    const stays = charm.array(Where, 6, { args: ["stays"] });
    await gone.where.ret();
    expect(await charm.destroy(gone)).toBe(6);
    await expect(bounded(gone.at(4).where.ret(), 10_000, "a call to a destroyed element")).rejects.toThrow(/Where\[4\] was destroyed \(charm\.destroy\)/);
    await expect(bounded(gone.where.ret(), 10_000, "a broadcast to a destroyed array")).rejects.toBeInstanceOf(RemoteError);
    expect((await stays.where.ret()).map((w) => w.label)).toEqual(new Array(6).fill("stays"));
  });

  it("elements that migrated are destroyed where they are, and groups and singletons can be destroyed too", async () => {
    const movers = charm.array(Mover, 3, { args: [4] });
    movers.at(0).moveTo(2);
    expect((await movers.at(0).where.ret()).pe).toBe(2);
    expect(await charm.destroy(movers)).toBe(3);
    expect(await charm.destroy(charm.group(Where))).toBe(3);
    expect(await charm.destroy(charm.chare(Where, [], { onPe: 1 }))).toBe(1);
    await expect(charm.destroy(movers.at(1) as never)).rejects.toThrow(/a collection.s proxy/);
  });
});
