/** Load balancing's figures: migration cost by state size, and the particle simulation with and without balancing. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { charm, Future } from "../runtime/index.ts";
import { Mover } from "./movers.ts";
import { median, type Row } from "./row.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const only = process.env.BENCH?.toLowerCase().split(",").filter(Boolean);
const want = (name: string): boolean => !only || only.some((w) => name.toLowerCase().includes(w));

/** µs per hop of a chain of `hops` one-way hops started by `start` (which resolves its future at the end). */
async function perHop(hops: number, start: (done: Future<void>) => void): Promise<number> {
  const done = new Future<void>();
  const t0 = performance.now();
  start(done);
  await done;
  return ((performance.now() - t0) * 1000) / hops;
}

/** ms per iteration printed by examples/particles.ts (its own clock: PE start-up not included). */
function particleStepMs(args: string[], pes = 2): number {
  const r = spawnSync(process.execPath, [`${root}bin/charmrun.mjs`, `+p${pes}`, `${root}examples/particles.ts`, ...args], { encoding: "utf8", timeout: 60_000 });
  const ms = /\(([\d.]+) ms per iteration\)/.exec(r.stdout)?.[1];
  if (r.status !== 0 || !ms || !r.stdout.includes("(conserved)")) throw new Error(`particles ${args.join(" ")} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return Number(ms);
}

/**
 * The particle simulation's ms per step on 2 PEs without balancing, on 1 PE, and with each
 * strategy every 20 steps (steady state: 100–200 steps, not the JIT's warm-up).
 */
async function particleRows(crowd: string, args: string[], target: string): Promise<Row[]> {
  const label = `particles 16×8, ${crowd} crowded on PE 0`;
  const plain = await median(3, () => particleStepMs([...args, "--no-lb"]));
  const onePe = await median(3, () => particleStepMs([...args, "--no-lb"], 1));
  const rows: Row[] = [{ name: `${label}, no balancing, 1 PE: ms per step`, value: onePe, unit: "ms", floor: { name: "the same on 2 PEs", value: plain, unit: "ms" }, target: "report" }];
  // "none" measures loads and syncs every 20 steps but moves nothing: the cost of asking.
  for (const balancer of ["none", "greedy", "refine", "orb"]) {
    const balanced = await median(3, () => particleStepMs([...args, "+balancer", balancer]));
    rows.push({ name: `${label}, ${balancer} every 20 steps: ms per step`, value: balanced, unit: "ms", floor: { name: "the same without balancing", value: plain, unit: "ms" }, target: balancer === "none" ? "report" : target });
  }
  return rows;
}

/** Runs the load-balancing benchmarks on 2 local PEs. */
export async function balancingBenchmarks(): Promise<Row[]> {
  const rows: Row[] = [];
  await charm.start({ numPes: 2, modules: [new URL("../bench/movers.ts", import.meta.url).href] });
  try {
    for (const [label, bytes, hops] of [["0 B", 0, 1000], ["1 KiB", 1024, 1000], ["64 KiB", 65536, 400], ["1 MiB", 1 << 20, 100]] as const) {
      const name = `migrate one chare with ${label} of state, 2 PEs`;
      if (!want(name)) continue;
      // Element 0 starts on PE 0, element 1 on PE 1 (block map); tours have an even number of hops.
      const movers = charm.array(Mover, 2, { args: [bytes] });
      await charm.awaitCreation(movers);
      const floor = await median(3, () => perHop(hops, (f) => movers.at(0).volley(hops, movers.at(1), f)));
      const hop = await median(3, () => perHop(hops, (f) => movers.at(0).tour(hops, f)));
      rows.push({ name, value: hop, unit: "µs", floor: { name: "the same bytes as an entry-method argument", value: floor, unit: "µs" }, target: "report" });
    }
  } finally {
    await charm.shutdown();
  }

  if (want("particles")) {
    // 16×8 cells; the crowd (16 cells) starts on PE 0, so without balancing PE 1 mostly waits.
    // With 10,000 particles a crowded cell, a step costs more in channel messages than in moving
    // particles (each PE's share of the messages is already fair); with 80,000, moving particles
    // dominates, as in the seed's Python, and the crowd is the load to balance.
    rows.push(...(await particleRows("160k", ["16", "8", "10000", "200"], "report")));
    rows.push(...(await particleRows("1.28M", ["16", "8", "80000", "100"], "< ×1 (balancing wins)")));
  }
  return rows;
}
