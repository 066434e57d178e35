// Cyclic objects beside runtime references (a proxy) in a message: the encoder keeps the cycles,
// and the receiver rebuilds the references in them. Without a guard, that rebuilding (decode)
// recursed around the cycle until the stack overflowed: the call failed on arrival, and a migrating
// element holding such state was reported unhandled ("while handling a migrate message") and lost.
import { afterEach, describe, expect, it } from "vitest";
import { charm } from "../../runtime/index.ts";
import { Cyclic } from "./fixtures/cycles.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/cycles.ts", import.meta.url).href;
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 10_000, what, runtimeState);
afterEach(() => charm.shutdown());

describe("a cyclic object beside a proxy", () => {
  it("as an argument: arrives cyclic", async () => {
    await charm.start({ numPes: 2, modules: [fixtures] });
    const cells = charm.array(Cyclic, 2);
    const node: any = { name: "sent", peer: cells.at(0) };
    node.self = node;
    node.kids = [{ up: node }, { up: node }];
    await waitFor(cells.at(1).take.awaitable(node), "a call with a cyclic argument");
    expect(await waitFor(cells.at(1).check.ret(), "its state")).toMatchObject({ cyclic: true, name: "sent" });
  });

  it("in a migrating element's state: the element arrives, still cyclic", async () => {
    await charm.start({ numPes: 2, modules: [fixtures] });
    const cells = charm.array(Cyclic, 2);
    await waitFor(cells.build.awaitable(false, true), "Cyclic.build");
    cells.at(0).moveTo(1);
    await waitFor(charm.waitQD(), "the move");
    expect(await waitFor(cells.at(0).check.ret(), "the moved element's state")).toMatchObject({ cyclic: true, name: "node-0", peer: true, pe: 1 });
  });
});
