// A reduction whose partial the future's home can't rebuild (an instance of a class registered on
// the PEs but not on the driver) must reject the future saying so: it used to resolve without
// that PE's contributions (a silently wrong result), or, when every partial failed, never.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future, RemoteError } from "../../runtime/index.ts";
import { Registrar, Sender } from "./fixtures/bad-values.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/bad-values.ts", import.meta.url).href;

async function outcome(work: PromiseLike<unknown>, what: string): Promise<unknown> {
  return bounded(Promise.resolve(work).then((v) => ({ resolved: v }), (e: unknown) => e), 10_000, what, runtimeState);
}

describe("a reduction partial the future's home can't rebuild", () => {
  beforeAll(async () => {
    await charm.start({ numPes: 3, modules: [fixtures] });
    await charm.awaitCreation(charm.group(Registrar));
  });
  afterAll(() => charm.shutdown());

  it("one PE's partial: the future rejects naming the class, instead of resolving without that PE's contribution", async () => {
    charm.onError(() => undefined);
    try {
      const senders = charm.array(Sender, 3);
      const f = new Future<unknown>();
      senders.gatherOnlyOnPe1(f);
      const got = await outcome(f, "the gather's outcome");
      expect(got).toBeInstanceOf(RemoteError);
      expect(String((got as Error).message)).toMatch(/OnlyOnPe1 isn't registered on this PE/);
    } finally {
      charm.onError(undefined);
    }
  });

  it("every PE's partial: the future rejects instead of waiting forever", async () => {
    charm.onError(() => undefined);
    try {
      const senders = charm.array(Sender, 3);
      const f = new Future<unknown>();
      senders.gatherPeOnly(f);
      const got = await outcome(f, "the gather's outcome");
      expect(got).toBeInstanceOf(RemoteError);
      expect(String((got as Error).message)).toMatch(/PeOnly isn't registered on this PE/);
    } finally {
      charm.onError(undefined);
    }
  });

  it("a broadcast's ret whose reply one PE can't send home rejects, and the next broadcast works", async () => {
    charm.onError(() => undefined);
    try {
      const senders = charm.array(Sender, 3);
      const got = await outcome(senders.returnPeOnly.ret(), "the broadcast's outcome");
      expect(got).toBeInstanceOf(RemoteError);
      expect(String((got as Error).message)).toMatch(/PeOnly isn't registered on this PE/);
      expect(await bounded(senders.where.ret(), 10_000, "a later broadcast", runtimeState)).toEqual([0, 1, 2]);
    } finally {
      charm.onError(undefined);
    }
  });
});
