/**
 * Load-balancing strategies: pure functions from measured loads to a migration plan. They
 * decide only; runtime/lb/balancer.ts executes the plan. Select one by name (`balancer` in
 * charm.start's options, `+balancer NAME`, or per array); register more with registerBalancer.
 */
import { CharmError } from "../protocol/errors.ts";

/** One element as a strategy sees it. */
export interface ObjectLoad {
  /** The element's index key ("3", "1,2"). */
  readonly id: string;
  /** The PE it is on. */
  readonly pe: number;
  /** Its measured load (ms since the last balancing). */
  readonly load: number;
  /** False: it must stay where it is. */
  readonly migratable: boolean;
}

/** What a strategy is given: every element's load, the number of PEs, and which round this is. */
export interface LoadStats {
  readonly objs: readonly ObjectLoad[];
  readonly numPes: number;
  readonly round: number;
}

/** A plan: element id → the PE it moves to (elements not listed stay). */
export type MigrationPlan = Map<string, number>;

/** A strategy: measured loads in, plan out; must not move non-migratable elements. */
export type Strategy = (stats: LoadStats) => MigrationPlan;

/** Greedy: heaviest elements first, each onto the least loaded PE (non-migratable ones stay and count). */
export function greedy(stats: LoadStats): MigrationPlan {
  const loads = new Array<number>(stats.numPes).fill(0);
  for (const o of stats.objs) if (!o.migratable) loads[o.pe]! += o.load;
  const movable = stats.objs.filter((o) => o.migratable).sort((a, b) => b.load - a.load || (a.id < b.id ? -1 : 1));
  const plan: MigrationPlan = new Map();
  for (const o of movable) {
    // Ties go to the element's own PE, then the lowest PE number, so equal loads don't move.
    let best = o.pe;
    for (let pe = 0; pe < stats.numPes; pe++) if (loads[pe]! < loads[best]! - 1e-9) best = pe;
    loads[best]! += o.load;
    if (best !== o.pe) plan.set(o.id, best);
  }
  return plan;
}

/**
 * Refine: moves as few elements as it can. While some PE is above the average by more than
 * `tolerance`, its lightest element that fits moves to the least loaded PE.
 */
export function refine(stats: LoadStats, tolerance = 1.05): MigrationPlan {
  const loads = new Array<number>(stats.numPes).fill(0);
  const where = new Map<string, number>();
  for (const o of stats.objs) { loads[o.pe]! += o.load; where.set(o.id, o.pe); }
  const average = loads.reduce((a, b) => a + b, 0) / stats.numPes;
  const plan: MigrationPlan = new Map();
  for (let step = 0; step < stats.objs.length; step++) {
    const heavy = argmax(loads);
    const light = argmin(loads);
    if (loads[heavy]! <= average * tolerance || heavy === light) break;
    const gap = loads[heavy]! - loads[light]!;
    // The heaviest element that still narrows the gap: moving it can't make `light` the new peak.
    const candidates = stats.objs.filter((o) => o.migratable && where.get(o.id) === heavy && o.load > 0 && o.load < gap);
    if (candidates.length === 0) break;
    const pick = candidates.reduce((a, b) => (b.load > a.load ? b : a));
    loads[heavy]! -= pick.load;
    loads[light]! += pick.load;
    where.set(pick.id, light);
    if (light === pick.pe) plan.delete(pick.id); else plan.set(pick.id, light);
  }
  return plan;
}

/**
 * Orb (Charm++'s OrbLB): orthogonal recursive bisection of the index space. The elements are cut
 * in two along their widest index dimension where the load splits in proportion to the PEs on
 * each side, and each half again, so every PE gets a compact block of neighbouring indices and
 * neighbours (a stencil's, a particle grid's) mostly stay on one PE. Indices that aren't numbers
 * (sparse string keys) have no geometry: greedy decides then. Non-migratable elements count in
 * the cuts but stay where they are.
 */
export function orb(stats: LoadStats): MigrationPlan {
  const points = stats.objs.map((o) => ({ o, at: o.id.split(",").map(Number) }));
  if (points.some((p) => p.at.some((c) => !Number.isFinite(c)))) return greedy(stats);
  const plan: MigrationPlan = new Map();
  const assign = (group: typeof points, firstPe: number, numPes: number): void => {
    if (numPes === 1 || group.length <= 1) {
      for (const { o } of group) if (o.migratable && o.pe !== firstPe) plan.set(o.id, firstPe);
      return;
    }
    const dims = group[0]!.at.length;
    let widest = 0, widestExtent = -1;
    for (let d = 0; d < dims; d++) {
      const cs = group.map((p) => p.at[d]!);
      const extent = Math.max(...cs) - Math.min(...cs);
      if (extent > widestExtent) [widest, widestExtent] = [d, extent];
    }
    // Along the widest dimension, then the others in order, so equal coordinates cut as rows.
    const sorted = [...group].sort((a, b) => {
      for (let k = 0; k < dims; k++) {
        const d = (widest + k) % dims;
        if (a.at[d] !== b.at[d]) return a.at[d]! - b.at[d]!;
      }
      return 0;
    });
    const leftPes = Math.floor(numPes / 2);
    const total = sorted.reduce((sum, p) => sum + p.o.load, 0);
    const wanted = (total * leftPes) / numPes;
    // The cut whose left load is nearest the share; at least one element on each side.
    let cut = 1, bestGap = Infinity, left = 0;
    for (let i = 1; i < sorted.length; i++) {
      left += sorted[i - 1]!.o.load;
      const gap = Math.abs(left - wanted);
      if (gap < bestGap) [cut, bestGap] = [i, gap];
    }
    // Without load (nothing measured yet), split by count so PEs still get compact blocks.
    if (total === 0) cut = Math.round((sorted.length * leftPes) / numPes);
    assign(sorted.slice(0, cut), firstPe, leftPes);
    assign(sorted.slice(cut), firstPe + leftPes, numPes - leftPes);
  };
  assign(points, 0, stats.numPes);
  return plan;
}

/** Rotate: every migratable element moves to the next PE (deterministic; for tests). */
export function rotate(stats: LoadStats): MigrationPlan {
  const plan: MigrationPlan = new Map();
  if (stats.numPes < 2) return plan;
  for (const o of stats.objs) if (o.migratable) plan.set(o.id, (o.pe + 1) % stats.numPes);
  return plan;
}

/** Random: every migratable element to a PE drawn from a generator seeded by the round (repeatable). */
export function random(stats: LoadStats): MigrationPlan {
  let state = (stats.round * 2654435761 + 1) >>> 0;
  const next = (): number => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return state / 2 ** 32;
  };
  const plan: MigrationPlan = new Map();
  for (const o of stats.objs) {
    const pe = Math.floor(next() * stats.numPes);
    if (o.migratable && pe !== o.pe) plan.set(o.id, pe);
  }
  return plan;
}

/** None: measures and calls resumeFromSync, moves nothing. */
export function none(): MigrationPlan {
  return new Map();
}

function argmax(xs: number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}

function argmin(xs: number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! < xs[best]!) best = i;
  return best;
}

const strategies = new Map<string, Strategy>([
  ["greedy", greedy], ["refine", (s) => refine(s)], ["orb", orb], ["rotate", rotate], ["random", random], ["none", none],
]);

/** The names of the strategies registered so far (the built-in ones, until a program registers more). */
export function balancerNames(): string[] {
  return [...strategies.keys()];
}

/** Makes a strategy selectable by name (register it in the module every PE loads). */
export function registerBalancer(name: string, strategy: Strategy): void {
  if (typeof strategy !== "function") throw new CharmError(`registerBalancer("${name}", strategy): strategy must be a function (stats) => Map<id, pe>`);
  strategies.set(name.toLowerCase(), strategy);
}

/** The strategy registered under `name` (case-insensitive; Charm++'s "GreedyLB" finds "greedy"). */
export function strategyNamed(name: string): Strategy {
  const key = name.toLowerCase().replace(/lb$/, "");
  const found = strategies.get(key);
  if (!found) throw new CharmError(`unknown balancer "${name}"; known: ${balancerNames().join(", ")}`);
  return found;
}

/** Checks a balancer name early (at array creation), so a typo fails at the call site. */
export function checkBalancerName(name: string): string {
  strategyNamed(name);
  return name.toLowerCase().replace(/lb$/, "");
}
