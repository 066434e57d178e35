// With checkpoints at AtSync barriers (checkpoint: { everySync }), a due round's plan waits on the
// driver until the checkpoint is taken at quiescence. That moment (every element waiting at its
// barrier, nothing in flight) is the checkpoint's, not the program's: charm.waitQD() and a
// script's hang check used to take it for the end of the work ("main is waiting, but the runtime
// is quiescent…" printed by a run that was progressing). The held plan now counts as held work.
import { afterEach, describe, expect, it } from "vitest";
import { charm, Future } from "../../runtime/index.ts";
import { Cell } from "./fixtures/sync-sim.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { over } from "./transports.ts";

const fixtures = new URL("./fixtures/sync-sim.ts", import.meta.url).href;
afterEach(() => charm.shutdown());

describe.each([[2, "threads"], [3, "threads"], [3, "processes"]] as const)("%i PEs over %s", (numPes, transport) => {
  it("waitQD called while a run steps resolves once the run is done, not at a barrier checkpoint's quiet moment", async () => {
    await charm.start({ numPes, modules: [fixtures], checkpoint: { everySync: 1 }, ...over(transport) });
    const n = 2 * numPes;
    const sim = charm.array(Cell, n, { args: [n], useAtSync: true, balancer: "rotate" });
    const done = new Future<number[]>();
    let finished = false;
    void Promise.resolve(done).then(() => { finished = true; });
    sim.run(3, done);
    await bounded(charm.waitQD(), 30_000, "quiescence after a 3-step run", runtimeState);
    expect(finished).toBe(true);
    expect(await bounded(done, 10_000, "the run's result", runtimeState)).toHaveLength(n);
  });
});
