// One PE count and transport of the delivery soak (scripts/soak.mjs starts it with charmrun):
// runs the delivery audit (test/runtime/fixtures/audit.ts) for seeds FIRST … FIRST+COUNT-1 and
// prints one line per seed; a failure prints its seed and configuration, to replay with
// `npx charmrun +pN scripts/soak-audit.ts SEED 1`.
import { charm } from "charm4ts";
import { auditConfig, runAudit } from "../test/runtime/fixtures/audit.ts";
import { bounded, runtimeState } from "../test/bounded.ts";

export { Audited } from "../test/runtime/fixtures/audit.ts";

async function main(args: string[]): Promise<void> {
  const first = Number(args[1] ?? 1);
  const count = Number(args[2] ?? 100);
  let messages = 0;
  let moves = 0;
  let failures = 0;
  for (let seed = first; seed < first + count; seed++) {
    const cfg = auditConfig(seed);
    if (process.env.SOAK_VERBOSE) console.log(`seed ${seed} ${JSON.stringify(cfg)}`);
    try {
      const r = await bounded(runAudit(cfg), 30_000, `seed ${seed}`, runtimeState);
      messages += r.messages;
      moves += r.moves;
      if (r.problems.length) { failures++; console.log(`FAIL seed ${seed} ${JSON.stringify(cfg)}\n  ${r.problems.slice(0, 10).join("\n  ")}`); }
    } catch (err) {
      failures++;
      console.log(`FAIL seed ${seed} ${JSON.stringify(cfg)}\n  ${(err as Error).message}`);
      break; // a hang leaves the runtime busy: stop here
    }
  }
  console.log(`soak: ${count} seeds from ${first} on ${charm.numPes()} PEs: ${messages} messages audited, ${moves} moves, ${failures} failures`);
  charm.exit(failures ? 1 : 0);
}
charm.start(main);
