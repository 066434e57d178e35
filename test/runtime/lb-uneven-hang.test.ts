// AtSync balancing of a ring stencil with uneven load (greedy and refine move elements every
// round), on 3 and 5 PEs, no checkpoint and no PE lost: every round must complete. Seen: a
// round never completes — every element has called AtSync and none gets resumeFromSync.
import { afterEach, describe, expect, it } from "vitest";
import { charm, Future } from "../../runtime/index.ts";
import { UnevenCell } from "./fixtures/uneven-ring.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/uneven-ring.ts", import.meta.url).href;
const N = 24;
const STEPS = 30;
afterEach(() => charm.shutdown());

describe.each([["greedy", 3], ["refine", 3], ["greedy", 5]] as const)("%s on %i PEs (threads)", (balancer, numPes) => {
  it("every round of an uneven ring completes, five runs in a row", async () => {
    await charm.start({ numPes, modules: [fixtures] });
    for (let run = 0; run < 5; run++) {
      const sim = charm.array(UnevenCell, N, { args: [N], useAtSync: true, balancer });
      const done = new Future<number[]>();
      sim.run(STEPS, done);
      const values = await bounded(done, 20_000, `run ${run} to finish (${balancer}, ${numPes} PEs)`, async () =>
        `${await runtimeState()}\n${JSON.stringify(await bounded(sim.state.ret(), 3000, "states"))}`);
      expect(values).toHaveLength(N);
    }
  }, 150_000);
});
