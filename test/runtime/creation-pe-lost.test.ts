// A PE that dies before it has built its share of a collection: charm.awaitCreation rejects with
// PeLostError saying so, instead of waiting for good; the loss counts as heard (nothing else is
// reported); creating another collection with elements there is refused at once, and the
// runtime goes on without that PE.
import { afterEach, describe, expect, it } from "vitest";
import { charm, PeLostError } from "../../runtime/index.ts";
import { DiesBuilding } from "./fixtures/dies-building.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { TRANSPORTS, over } from "./transports.ts";

const fixtures = new URL("./fixtures/dies-building.ts", import.meta.url).href;
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 60_000, what, runtimeState);
afterEach(async () => {
  charm.onError(undefined);
  await charm.shutdown();
});

describe.each(TRANSPORTS.flatMap((t) => [3, 5].map((n) => [t, n] as const)))("over %s on %i PEs", (transport, numPes) => {
  it.each(["array", "group", "chare"] as const)("a %s whose PE dies building it: awaitCreation rejects with PeLostError", async (kind) => {
    await charm.start({ numPes, modules: [fixtures], ...over(transport) });
    const reported: string[] = [];
    charm.onError((err) => reported.push(err.message));
    const last = numPes - 1;
    const made = kind === "array" ? charm.array(DiesBuilding, 2 * numPes, { args: [last] })
      : kind === "group" ? charm.group(DiesBuilding, { args: [last] })
      : charm.chare(DiesBuilding, [last], { onPe: last, awaitable: true });
    const creation = waitFor(charm.awaitCreation(made), "charm.awaitCreation to settle");
    await expect(creation).rejects.toThrow(PeLostError);
    await expect(creation).rejects.toThrow(new RegExp(`^PE ${last} (exited with code 3|was killed by|.*); creating DiesBuilding \\(${kind === "chare" ? "a chare" : kind}\\) needed it, and it had not built its share\\.`));
    expect(reported).toEqual([]); // awaitCreation heard of the loss
    // Creating another collection with elements there is refused at once; one on the live PEs is made.
    expect(() => charm.group(DiesBuilding, { args: [-1] })).toThrow(new RegExp(`^PE ${last} .*; creating DiesBuilding \\(group\\) can't reach it\\.`));
    const alive = charm.chare(DiesBuilding, [-1], { onPe: 0, awaitable: true });
    await waitFor(charm.awaitCreation(alive), "a chare made on PE 0 after the loss");
  }, 60_000);
});
