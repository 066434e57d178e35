// The delivery audit (fixtures/audit.ts) over every transport, on 3, 5 and 7 PEs: elements send
// numbered entry-method calls, channel values and broadcasts while random migrate() calls and
// AtSync rounds with every balancer move them; every message must arrive exactly once, and
// channel values in order. Configurations come from fast-check with a fixed seed (AUDIT_SEED to
// replay another; a failure prints the seed and the configuration). `npm run soak` runs thousands.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { charm } from "../../runtime/index.ts";
import { auditConfig, runAudit } from "./fixtures/audit.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { over, type TransportName } from "./transports.ts";

const fixtures = new URL("./fixtures/audit.ts", import.meta.url).href;
const SEED = Number(process.env.AUDIT_SEED ?? 20261206);
const RUNS = Number(process.env.AUDIT_RUNS ?? 25);

const cases: Array<[TransportName, number]> = [["threads", 3], ["threads", 5], ["threads", 7], ["processes", 3], ["processes", 5], ["mixed", 5]];

describe.each(cases)("delivery audit over %s on %i PEs", (transport, numPes) => {
  beforeAll(() => charm.start({ numPes, modules: [fixtures], ...over(transport) }), 60_000);
  afterAll(() => charm.shutdown());

  it("every entry-method call, channel value and broadcast arrives exactly once while elements move", async () => {
    let audited = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), async (seed) => {
        const cfg = auditConfig(seed);
        const result = await bounded(runAudit(cfg), 20_000, `the audit of ${JSON.stringify(cfg)} to finish`, runtimeState);
        expect(result.problems, JSON.stringify(cfg)).toEqual([]);
        audited += result.messages;
      }),
      { seed: SEED + numPes, numRuns: RUNS, endOnFailure: true },
    );
    expect(audited).toBeGreaterThan(0);
  }, 180_000);
});
