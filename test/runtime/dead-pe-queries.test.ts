// Runtime queries that ask every PE (status, profile, timeline, lbHistory) answer once a PE is
// dead, with what the live PEs know, and mark the dead one, instead of waiting for it forever
// (issue 16, item 4).
import { afterEach, describe, expect, it } from "vitest";
import { charm, PeLostError, RemoteError } from "../../runtime/index.ts";
import { MIME_BUNDLE } from "../../runtime/presentation/display.ts";
import { Thrower } from "./fixtures/thrown.ts";
import { TRANSPORTS, over } from "./transports.ts";
import { within } from "./within.ts";

const fixtures = new URL("./fixtures/thrown.ts", import.meta.url).href;
const WAIT_MS = 10_000;

afterEach(async () => {
  charm.onError(undefined);
  await charm.shutdown();
});

/** Starts 3 PEs with an element on each, and kills PE `pe` (process.exit(3) in its chare). */
async function startAndKill(transport: (typeof TRANSPORTS)[number], pe: number, opts: { useAtSync?: boolean } = {}) {
  await charm.start({ numPes: 3, modules: [fixtures], ...over(transport) });
  const arr = charm.array(Thrower, 3, opts); // one element per PE
  expect(await arr.bump.ret()).toEqual([1, 1, 1]);
  const died = new Promise<RemoteError>((resolve) => charm.onError(resolve));
  arr.at(pe).exit(3);
  return { arr, died };
}

describe.each(TRANSPORTS)("queries once a PE is dead (%s)", (transport) => {
  it("status, profile and timeline answer for the live PEs and mark the dead one", async () => {
    const { arr, died } = await startAndKill(transport, 1);
    expect((await within(died, WAIT_MS, "the report of PE 1's death")).pe).toBe(1);
    const status = await within(charm.status(), WAIT_MS, "charm.status() with PE 1 dead");
    expect(status.pes.map((p) => p.pe)).toEqual([0, 2]);
    expect([...status.dead.keys()]).toEqual([1]);
    expect(status.dead.get(1)).toMatch(/exited with code 3/);
    expect(status[MIME_BUNDLE]()["text/plain"]).toMatch(/3 PEs \(1 dead\), 2 chares[^]*\n1 +— +dead: exited with code 3/);
    const work = async () => { await arr.at(0).bump.ret(); await arr.at(2).bump.ret(); };
    const profile = await within(charm.profile(work), WAIT_MS, "charm.profile() with PE 1 dead");
    expect(profile.methods.find((m) => m.method === "Thrower.bump")?.calls).toBe(2);
    expect(profile.toString()).toMatch(/PE 1 dead \(exited with code 3[^)]*\)[^]*Thrower\.bump .* \/ dead \/ /);
    const timeline = await within(charm.timeline(work), WAIT_MS, "charm.timeline() with PE 1 dead");
    expect(timeline.events.map((e) => e.pe).sort()).toEqual([0, 2]);
    expect([...timeline.dead.keys()]).toEqual([1]);
    expect(timeline.svg()).toContain("<title>PE 1 is dead: exited with code 3");
  });

  it("a query sent while the PE dies answers without it", async () => {
    const { died } = await startAndKill(transport, 2);
    // Sent after the call that kills PE 2, so PE 2 never answers it.
    const status = await within(charm.status(), WAIT_MS, "charm.status() sent as PE 2 died");
    expect(status.pes.map((p) => p.pe)).toEqual([0, 1]);
    expect([...status.dead.keys()]).toEqual([2]);
    await within(died, WAIT_MS, "the report of PE 2's death");
  });

  it("lbHistory rejects with PeLostError once the array's root PE is dead, at once after that", async () => {
    const { arr } = await startAndKill(transport, 0, { useAtSync: true });
    const waiting = charm.lbHistory(arr); // sent after the call that kills PE 0
    const err = await within(Promise.resolve(waiting).then(() => undefined, (e: unknown) => e), WAIT_MS, "charm.lbHistory() sent as PE 0 died");
    expect(err).toBeInstanceOf(PeLostError); // the program heard of the loss here: it isn't reported besides
    expect(() => charm.lbHistory(arr)).toThrow(/PE 0 exited with code 3[^;]*; charm\.lbHistory\(proxy\) can't reach it/);
  });
});
