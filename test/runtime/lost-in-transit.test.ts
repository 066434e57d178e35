// A PE dies while an element a balancing plan moves is still leaving it: calls that reached the
// element's destination first (held there for its arrival) fail with PeLostError naming the move,
// instead of waiting for an element that will never come; calls nobody waits on are lost with it,
// as those queued on its PE are (the loss is told once, as the PE's); calls made after the loss
// are told the element was lost, not that it "does not exist"; the other PEs go on.
import { afterEach, describe, expect, it } from "vitest";
import { charm, Future } from "../../runtime/index.ts";
import { Mover, type Heard } from "./fixtures/held-for-mover.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { TRANSPORTS, over } from "./transports.ts";

const fixtures = new URL("./fixtures/held-for-mover.ts", import.meta.url).href;
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 60_000, what, runtimeState);
afterEach(async () => {
  charm.onError(undefined);
  await charm.shutdown();
});

describe.each(TRANSPORTS.flatMap((t) => [3, 5].map((n) => [t, n] as const)))("over %s on %i PEs", (transport, numPes) => {
  it("calls held for an element whose PE dies before it leaves fail, saying it was moving", async () => {
    await charm.start({ numPes, modules: [fixtures], ...over(transport) });
    const last = numPes - 1;
    const n = 2 * numPes;
    const movers = charm.array(Mover, n, { useAtSync: true, balancer: "lastToOne" });
    const pes = await waitFor(movers.where.ret(), "where every element is");
    const onLast = pes.flatMap((pe, i) => (pe === last ? [i] : []));
    const witness = pes.indexOf(1);
    expect(pes[0]).toBe(0);
    expect(onLast.length).toBeGreaterThan(0);
    const reported: string[] = [];
    charm.onError((err) => reported.push(err.message));
    const held = new Future<void>();
    movers.start(onLast, witness, held);
    await waitFor(held, "the calls to the movers to reach PE 1, where the plan sends them");
    if (transport === "threads") await waitFor(charm.restartPe(last), `PE ${last}'s thread to restart`);
    else process.kill((await waitFor(charm.status(), "charm.status()")).pes[last]!.pid, "SIGKILL");
    const outcomes: Heard = await waitFor(movers.at(0).heard.ret(), "what the calls to the movers answered");
    expect(outcomes).toHaveLength(onLast.length);
    for (const [k, said] of outcomes.entries()) expect(said).toMatch(new RegExp(`^PeLostError: PE ${last} .*; Mover\\[${onLast[k]}\\] was moving from it to PE 1 and was lost with it; its where\\(\\) call did not run\\.`));
    // The calls nobody waited on are lost with the element, as those queued on its PE are: not each reported.
    expect(reported.filter((m) => m.includes("was moving"))).toEqual([]);
    // A call made after the loss goes where the plan put the element, and is told it was lost there, not that it "does not exist".
    await expect(waitFor(movers.at(onLast[0]!).where.ret(), "a call to a lost mover after the loss")).rejects.toThrow(new RegExp(`^PE ${last} .*; Mover\\[${onLast[0]}\\] was lost with it while it moved; its where\\(\\) call did not run\\.`));
    // The other PEs go on: element 0 and the witness answer.
    expect(await waitFor(movers.at(witness).where.ret(), "the witness on PE 1")).toBe(1);
  }, 120_000);
});
