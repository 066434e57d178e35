// A section's multicast that waits for replies (ret, awaitable) must reject with PeLostError when
// a member's PE dies, as a broadcast does: it used to wait forever, and the loss was reported as
// one "nothing was waiting on".
import { afterEach, describe, expect, it } from "vitest";
import { charm, PeLostError, RemoteError } from "../../runtime/index.ts";
import { Sender } from "./fixtures/bad-values.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/bad-values.ts", import.meta.url).href;

afterEach(async () => {
  charm.onError(undefined);
  await charm.shutdown();
});

async function outcome(work: PromiseLike<unknown>, what: string): Promise<unknown> {
  return bounded(Promise.resolve(work).then((v) => ({ resolved: v }), (e: unknown) => e), 10_000, what, runtimeState);
}

describe("a section multicast waiting on a PE that dies", () => {
  it.each(["ret", "awaitable"] as const)("%s rejects with PeLostError, and the loss isn't reported besides", async (mode) => {
    await charm.start({ numPes: 3, modules: [fixtures] });
    const reported: RemoteError[] = [];
    charm.onError((e) => reported.push(e));
    const senders = charm.array(Sender, 3);
    const section = senders.slice(0, 2); // elements 0 and 1: PEs 0 and 1
    const waiting = section.slow[mode](5);
    senders.at(1).exitPe(3);
    const got = await outcome(waiting, `the section's ${mode}`);
    expect(got).toBeInstanceOf(PeLostError);
    expect(String((got as Error).message)).toMatch(/PE 1/);
    expect(reported.map((e) => e.message)).toEqual([]);
    // a later multicast to a section with a member there is refused at once, not left waiting
    const later = await outcome(Promise.resolve().then(() => section.where.ret()), "a later multicast's outcome");
    expect(later).toBeInstanceOf(PeLostError);
  });
});
