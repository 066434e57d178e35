// A channel's recv must not wait forever for a value that will never come: one the receiving PE
// can't rebuild (a class registered on the sender's PE only), or one from an element whose PE
// died. Both used to leave recv (and the call awaiting it) pending for good; the first was only
// reported, the second reported as a loss "nothing was waiting on" (a recv rejected so now
// counts as the program hearing of the loss).
import { afterEach, describe, expect, it } from "vitest";
import { charm, RemoteError } from "../../runtime/index.ts";
import { Registrar, Sender } from "./fixtures/bad-values.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/bad-values.ts", import.meta.url).href;

afterEach(async () => {
  charm.onError(undefined);
  await charm.shutdown();
});

async function outcome(work: PromiseLike<unknown>, what: string): Promise<unknown> {
  return bounded(Promise.resolve(work).then((v) => ({ resolved: v }), (e: unknown) => e), 10_000, what, runtimeState);
}

describe("a channel's recv", () => {
  it("rejects when the value is one this PE can't rebuild", async () => {
    await charm.start({ numPes: 3, modules: [fixtures] });
    await charm.awaitCreation(charm.group(Registrar));
    charm.onError(() => undefined);
    const senders = charm.array(Sender, 3); // element i on PE i
    const receiving = senders.at(2).recvFrom.ret(senders.at(1));
    senders.at(1).sendOnlyOnPe1(senders.at(2));
    const got = await outcome(receiving, "the receiver's recv");
    expect(got).toBeInstanceOf(RemoteError);
    expect(String((got as Error).message)).toMatch(/OnlyOnPe1 isn't registered on this PE/);
  });

  it("rejects with PeLostError when the sending element's PE dies", async () => {
    await charm.start({ numPes: 3, modules: [fixtures] });
    const reported: string[] = [];
    charm.onError((e) => reported.push(e.message));
    const senders = charm.array(Sender, 3);
    const receiving = senders.at(2).recvFrom.ret(senders.at(1));
    await bounded(charm.waitQD(), 10_000, "the receiver to wait", runtimeState);
    senders.at(1).exitPe(3);
    const got = await outcome(receiving, "the receiver's recv");
    expect(got).toBeInstanceOf(RemoteError);
    expect((got as RemoteError).remoteName).toBe("PeLostError");
    // The receiver heard of the loss: it isn't reported besides as one nothing was waiting on
    // (quiescence waits for the driver's decision on that).
    await bounded(charm.waitQD(), 10_000, "the driver to decide whether anyone heard of the loss", runtimeState);
    expect(reported.filter((m) => m.includes("PE 1 was lost"))).toEqual([]);
  });
});
