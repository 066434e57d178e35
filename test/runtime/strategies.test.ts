// Load-balancing strategies are pure functions: properties over random loads (fast-check).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { greedy, orb, random, refine, rotate, type LoadStats, type MigrationPlan } from "../../runtime/index.ts";
import { strategyNamed } from "../../runtime/lb/strategies.ts";

const statsArb: fc.Arbitrary<LoadStats> = fc.integer({ min: 1, max: 6 }).chain((numPes) =>
  fc.record({
    numPes: fc.constant(numPes),
    round: fc.nat(100),
    objs: fc.array(fc.record({ pe: fc.nat(numPes - 1), load: fc.double({ min: 0, max: 100, noNaN: true }), migratable: fc.boolean() }), { maxLength: 40 })
      .map((objs) => objs.map((o, i) => ({ ...o, id: String(i) }))),
  }));

function loadsAfter(stats: LoadStats, plan: MigrationPlan): number[] {
  const loads = new Array<number>(stats.numPes).fill(0);
  for (const o of stats.objs) loads[plan.get(o.id) ?? o.pe]! += o.load;
  return loads;
}

function checkPlan(stats: LoadStats, plan: MigrationPlan): void {
  const byId = new Map(stats.objs.map((o) => [o.id, o]));
  for (const [id, pe] of plan) {
    const o = byId.get(id)!;
    expect(o).toBeDefined();
    expect(o.migratable).toBe(true);
    expect(Number.isInteger(pe) && pe >= 0 && pe < stats.numPes).toBe(true);
  }
}

describe("load-balancing strategies", () => {
  it("no strategy moves a non-migratable element or names a PE that doesn't exist", () => {
    fc.assert(fc.property(statsArb, (stats) => {
      for (const s of [greedy, refine, orb, rotate, random]) checkPlan(stats, s(stats));
    }));
  });

  it("greedy's heaviest PE carries at most the average plus one element (all migratable)", () => {
    fc.assert(fc.property(statsArb, (stats) => {
      const all = { ...stats, objs: stats.objs.map((o) => ({ ...o, migratable: true })) };
      const loads = loadsAfter(all, greedy(all));
      const total = loads.reduce((a, b) => a + b, 0);
      const biggest = Math.max(0, ...all.objs.map((o) => o.load));
      expect(Math.max(...loads)).toBeLessThanOrEqual(total / all.numPes + biggest + 1e-6);
    }));
  });

  it("refine never makes the heaviest PE heavier, and moves nothing when loads are even", () => {
    fc.assert(fc.property(statsArb, (stats) => {
      const before = Math.max(...loadsAfter(stats, new Map()));
      expect(Math.max(...loadsAfter(stats, refine(stats)))).toBeLessThanOrEqual(before + 1e-6);
    }));
    const even: LoadStats = { numPes: 2, round: 0, objs: [0, 1, 0, 1].map((pe, i) => ({ id: String(i), pe, load: 5, migratable: true })) };
    expect(refine(even).size).toBe(0);
  });

  it("refine moves fewer elements than greedy on a mildly imbalanced array", () => {
    const objs = Array.from({ length: 20 }, (_, i) => ({ id: String(i), pe: i < 10 ? 0 : 1, load: i === 0 ? 8 : 2, migratable: true }));
    const stats: LoadStats = { numPes: 2, round: 0, objs };
    const r = refine(stats);
    expect(r.size).toBeGreaterThan(0);
    expect(r.size).toBeLessThan(greedy(stats).size + 1);
    const loads = loadsAfter(stats, r);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThan(8);
  });

  it("orb gives each PE a compact block of the grid, cut where the load splits evenly", () => {
    const grid = fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 32, maxLength: 32 });
    fc.assert(fc.property(grid, fc.integer({ min: 1, max: 4 }), (loads, numPes) => {
      // An 8×4 grid, all of it on PE 0 (the crowded start of a particle run).
      const objs = loads.map((load, i) => ({ id: `${Math.floor(i / 4)},${i % 4}`, pe: 0, load, migratable: true }));
      const stats: LoadStats = { numPes, round: 0, objs };
      const plan = orb(stats);
      checkPlan(stats, plan);
      const after = loadsAfter(stats, plan);
      const total = loads.reduce((a, b) => a + b, 0);
      // Recursive halving: each cut is off by at most one element's load, over log2(PEs) levels.
      expect(Math.max(...after)).toBeLessThanOrEqual(total / numPes + 2 * Math.max(...loads) + 1e-6);
      if (numPes === 2) {
        // One cut along x (the wider side), rows in order: PE 0 holds a prefix, PE 1 the rest.
        const pes = objs.map((o) => plan.get(o.id) ?? o.pe);
        expect(pes).toEqual([...pes].sort((a, b) => a - b));
      }
    }));
  });

  it("orb falls back to greedy when indices have no geometry (sparse string keys)", () => {
    const objs = ["a", "b", "c", "d"].map((id, i) => ({ id, pe: 0, load: i + 1, migratable: true }));
    const stats: LoadStats = { numPes: 2, round: 0, objs };
    expect(orb(stats)).toEqual(greedy(stats));
  });

  it("rotate and random are deterministic for a round; random differs between rounds", () => {
    const stats: LoadStats = { numPes: 4, round: 3, objs: Array.from({ length: 30 }, (_, i) => ({ id: String(i), pe: i % 4, load: 1, migratable: true })) };
    expect([...rotate(stats)]).toEqual(stats.objs.map((o) => [o.id, (o.pe + 1) % 4]));
    expect([...random(stats)]).toEqual([...random(stats)]);
    expect([...random(stats)]).not.toEqual([...random({ ...stats, round: 4 })]);
  });

  it("strategies are found by name, Charm++ spellings included; unknown names list the known ones", () => {
    expect(strategyNamed("GreedyLB")).toBe(greedy);
    expect(strategyNamed("RotateLB")).toBe(rotate);
    expect(() => strategyNamed("FancyLB")).toThrow(/unknown balancer "FancyLB"; known: greedy, refine, orb, rotate, random, none/);
  });
});
