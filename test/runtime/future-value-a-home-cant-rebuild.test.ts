// A value sent to a future that its home can't rebuild (a class registered on the PEs only, or on
// the driver only) must reject that future with the reason: the home used to report the error
// and leave the future, and whoever awaited it, waiting forever.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, RemoteError, type Future } from "../../runtime/index.ts";
import { Registrar, Sender } from "./fixtures/bad-values.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/bad-values.ts", import.meta.url).href;

/** Registered on the driver only (the PEs' modules never mention it). */
class OnDriverOnly {
  w = 4;
}
charm.serializable(OnDriverOnly);

async function outcome(work: PromiseLike<unknown>, what: string): Promise<unknown> {
  return bounded(Promise.resolve(work).then((v) => ({ resolved: v }), (e: unknown) => e), 10_000, what, runtimeState);
}

describe("a future's value its home can't rebuild", () => {
  beforeAll(async () => {
    await charm.start({ numPes: 3, modules: [fixtures] });
    await charm.awaitCreation(charm.group(Registrar));
  });
  afterAll(() => charm.shutdown());

  it("an element's return value the driver can't rebuild rejects the call's future", async () => {
    charm.onError(() => undefined);
    try {
      const senders = charm.array(Sender, 3);
      const got = await outcome(senders.at(1).returnPeOnly.ret(), "the call's outcome");
      expect(got).toBeInstanceOf(RemoteError);
      expect(String((got as Error).message)).toMatch(/PeOnly isn't registered on this PE; call charm\.serializable\(PeOnly\)/);
      expect(await bounded(senders.at(1).where.ret(), 10_000, "a later call", runtimeState)).toBe(1);
    } finally {
      charm.onError(undefined);
    }
  });

  it("a value the driver sends to a PE's future, which that PE can't rebuild, rejects the PE's await", async () => {
    charm.onError(() => undefined);
    try {
      const senders = charm.array(Sender, 3);
      const { f } = (await senders.at(0).makeFuture.ret()) as { f: Future<unknown> };
      const waiting = senders.at(0).awaitMine.ret();
      f.send(new OnDriverOnly() as never);
      const got = await outcome(waiting, "the PE's await of its future");
      expect(got).toBeInstanceOf(RemoteError);
      expect(String((got as Error).message)).toMatch(/OnDriverOnly isn't registered on this PE/);
    } finally {
      charm.onError(undefined);
    }
  });
});
