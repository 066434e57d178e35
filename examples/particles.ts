// The seed's particle simulation (Charm4Py examples/particle/particle.py): a 2-D box split into
// a grid of Cell chares; every iteration each cell moves its particles randomly, hands the ones
// that left to its neighbours over channels, and every 20 iterations the cells let the runtime
// balance the load (AtSync). The particles start crowded in a few cells, so there is load to balance.
//
//   npx charmrun +p2 examples/particles.ts [cellsX cellsY [maxParticlesPerCell [iterations]]] [--no-lb] [--checkpoint DIR]
//
// --checkpoint DIR saves the cells at the end; `charmrun +p5 +restart DIR examples/particles.ts
// … 200` then carries the same simulation on, on any number of PEs, up to iteration 200.
import { charm, Chare, Channel, Future, Reducer, type CollectionProxy } from "charm4ts";

const SIM_BOX_SIZE = 100.0;
// Where the crowd starts: left of centre, so on 2 or 4 PEs the block map gives it to few PEs.
const HOT_X = 0.3 * SIM_BOX_SIZE;
const HOT_Y = 0.5 * SIM_BOX_SIZE;

export class Cell extends Chare {
  iteration = 0;
  readonly cellSize: [number, number];
  /**
   * Positions as flat pairs (x0, y0, x1, y1, …) in a Float64Array, `count` of them in use. A
   * typed array moves with one memcpy and stays unboxed; a number[] comes back from another PE
   * as an array of boxed numbers, several times slower to update in the loop below.
   */
  particles = new Float64Array(64);
  count = 0;
  /** This cell's random generator state (one number, so it migrates with the cell and runs repeat). */
  rng: number;
  readonly neighborIndexes: Array<[number, number]>;
  neighbors: Channel<Float64Array>[];

  constructor(readonly arrayDims: [number, number], maxParticlesPerCellStart: number, public numIter: number,
    readonly useLb: boolean, public simDone: Future<void>) {
    super();
    const [x, y] = this.thisIndex as [number, number];
    this.cellSize = [SIM_BOX_SIZE / arrayDims[0], SIM_BOX_SIZE / arrayDims[1]];
    this.rng = (x * 7919 + y * 104729 + 1) | 0;
    // create particles in this cell, in random positions
    const n = this.initialNumParticles(maxParticlesPerCellStart);
    const [loX, loY] = [x * this.cellSize[0], y * this.cellSize[1]];
    this.reserve(n);
    for (let i = 0; i < n; i++) {
      this.particles[2 * i] = this.uniform(loX, loX + this.cellSize[0] - 0.001);
      this.particles[2 * i + 1] = this.uniform(loY, loY + this.cellSize[1] - 0.001);
    }
    this.count = n;
    // my neighbours in the 2-D grid, and a channel to each
    this.neighborIndexes = this.nbIndexes();
    this.neighbors = this.neighborIndexes.map((idx) => new Channel<Float64Array>(this, this.thisProxy.at(...idx)));
  }

  /** Cells whose centre is near the hot spot start with `max` particles; the rest with none. */
  initialNumParticles(max: number): number {
    const [x, y] = this.thisIndex;
    const cx = x! * this.cellSize[0] + this.cellSize[0] / 2, cy = y! * this.cellSize[1] + this.cellSize[1] / 2;
    return Math.hypot(cx - HOT_X, cy - HOT_Y) <= SIM_BOX_SIZE / 5 ? max : 0;
  }

  /** The 8 neighbours (N, NE, E, …) with wrap-around, each once (a 2-wide grid has fewer). */
  nbIndexes(): Array<[number, number]> {
    const [x, y] = this.thisIndex as [number, number];
    const [dx, dy] = this.arrayDims;
    const nbs = new Map<string, [number, number]>();
    for (const nx of [(x - 1 + dx) % dx, x, (x + 1) % dx]) {
      for (const ny of [(y - 1 + dy) % dy, y, (y + 1) % dy]) {
        if (nx !== x || ny !== y) nbs.set(`${nx},${ny}`, [nx, ny]);
      }
    }
    return [...nbs.values()];
  }

  /** Uniform in [lo, hi) from this cell's mulberry32 generator. */
  uniform(lo: number, hi: number): number {
    let t = (this.rng = (this.rng + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo);
  }

  /** Makes room for `more` particles (doubling, so appends stay cheap). */
  reserve(more: number) {
    const needed = 2 * (this.count + more);
    if (needed <= this.particles.length) return;
    const bigger = new Float64Array(Math.max(needed, 2 * this.particles.length));
    bigger.set(this.particles.subarray(0, 2 * this.count));
    this.particles = bigger;
  }

  getNumParticles(): number {
    return this.count;
  }

  /** A restored cell runs on to iteration `numIter`, then reduces to `simDone`. */
  continueTo(numIter: number, simDone: Future<void>): void {
    this.numIter = numIter;
    this.simDone = simDone;
  }

  /** The sum of this cell's coordinates (equal sums: the same particles in the same places). */
  positionSum(): number {
    let sum = 0;
    for (let i = 0; i < 2 * this.count; i++) sum += this.particles[i]!;
    return sum;
  }

  /**
   * Moves every particle; returns, per neighbour, the coordinates of the ones that left to it
   * (they are removed here). Its own method, not inlined in run(): V8 optimizes a function that
   * is called every iteration, where a loop inside run() would start over unoptimized each time
   * run() is called again after balancing.
   */
  moveParticles(): number[][] {
    const [cw, ch] = this.cellSize;
    const [myX, myY] = this.thisIndex as [number, number];
    const [dimX, dimY] = this.arrayDims;
    // Sending a Float64Array costs one memcpy, where a list of objects would be copied field by field.
    const outgoing: number[][] = this.neighbors.map(() => []);
    const p = this.particles;
    let n = this.count, i = 0;
    while (i < n) {
      const x = wrap(p[2 * i]! + this.uniform(-cw * 0.1, cw * 0.1));
      const y = wrap(p[2 * i + 1]! + this.uniform(-ch * 0.1, ch * 0.1));
      // min(): x may round to exactly SIM_BOX_SIZE after wrapping
      const destX = Math.min(Math.floor(x / cw), dimX - 1), destY = Math.min(Math.floor(y / ch), dimY - 1);
      if (destX !== myX || destY !== myY) {
        outgoing[this.slotOf(destX, destY)]!.push(x, y);
        // remove it by moving the last particle here
        n--;
        p[2 * i] = p[2 * n]!;
        p[2 * i + 1] = p[2 * n + 1]!;
      } else {
        p[2 * i] = x;
        p[2 * i + 1] = y;
        i++;
      }
    }
    this.count = n;
    return outgoing;
  }

  /** Which of `neighbors` the cell (x, y) is. */
  slotOf(x: number, y: number): number {
    const nbs = this.neighborIndexes;
    for (let k = 0; k < nbs.length; k++) if (nbs[k]![0] === x && nbs[k]![1] === y) return k;
    throw new Error(`cell ${x},${y} is not a neighbour of ${this.thisIndex}`);
  }

  /** The simulation loop; returns at each AtSync and is called again by resumeFromSync. */
  async run() {
    while (this.iteration < this.numIter) {
      const outgoing = this.moveParticles();
      this.neighbors.forEach((channel, k) => channel.send(Float64Array.from(outgoing[k]!)));
      // Received as they come, absorbed in neighbour order: the particles' order, hence which
      // random number moves which particle, doesn't depend on timing, so runs repeat exactly.
      const incoming: Float64Array[] = [];
      for await (const channel of charm.iwait(this.neighbors)) incoming[this.neighbors.indexOf(channel)] = await channel.recv();
      this.reserve(incoming.reduce((sum, block) => sum + block.length / 2, 0));
      for (const block of incoming) {
        this.particles.set(block, 2 * this.count);
        this.count += block.length / 2;
      }

      this.iteration++;
      if (this.iteration % 10 === 0) {
        this.reduce(this.thisProxy.at(0, 0).reportMax, this.count, Reducer.max);
      }
      // Balancing after the last iteration would move cells for nothing.
      if (this.useLb && this.iteration % 20 === 0 && this.iteration < this.numIter) {
        this.particles = this.particles.slice(0, 2 * this.count); // if this cell moves, only particles in use travel
        this.AtSync(); // the runtime calls resumeFromSync once every cell is here and balancing is done
        return;
      }
    }
    // the simulation is done once every cell gets here
    this.reduce(this.simDone);
  }

  /** Called by the runtime after balancing; this cell may be on another PE now. */
  resumeFromSync() {
    this.thisProxy.at(...this.thisIndex).run();
  }

  reportMax(maxParticles: number) {
    console.log(`Max particles per cell: ${maxParticles}`);
  }
}

/** A coordinate that left the box comes back on the other side. */
function wrap(c: number): number {
  return c >= SIM_BOX_SIZE ? c - SIM_BOX_SIZE : c < 0 ? c + SIM_BOX_SIZE : c;
}

function usage(message: string): never {
  console.error(`${message}\nusage: particles.ts [cellsX cellsY [maxParticlesPerCell [iterations]]] [--no-lb] [--checkpoint DIR]`);
  return process.exit(2);
}

async function main(args: string[]) {
  const rest = args.slice(1);
  const at = rest.indexOf("--checkpoint");
  const checkpointDir = at >= 0 ? rest.splice(at, 2)[1] ?? usage("--checkpoint needs a directory") : undefined;
  const flags = rest.filter((a) => a.startsWith("--"));
  const numbers = rest.filter((a) => !a.startsWith("--")).map(Number);
  for (const f of flags) if (f !== "--no-lb") usage(`unknown option ${f}`);
  if (numbers.length === 1 || numbers.some((n) => !Number.isInteger(n) || n < 1)) usage(`expected positive integers, got ${rest.join(" ")}`);
  const arrayDims: [number, number] = numbers.length >= 2 ? [numbers[0]!, numbers[1]!] : [8, 4];
  const maxParticlesPerCellStart = numbers[2] ?? 10_000;
  const numIter = numbers[3] ?? 100;
  const useLb = !flags.includes("--no-lb");

  console.log(`Cell array size: ${arrayDims[0]} x ${arrayDims[1]} cells, ${numIter} iterations, load balancing ${useLb ? "on" : "off"}, ${charm.numPes()} PEs`);
  const simDone = new Future<void>();
  // charmrun +restart DIR: the cells of a checkpoint carry on; otherwise the 2-D Cell array is created.
  const restored = charm.restored<{ cells: CollectionProxy<Cell>; created: number }>();
  const cells = restored?.cells ?? charm.array(Cell, arrayDims, { args: [arrayDims, maxParticlesPerCellStart, numIter, useLb, simDone], useAtSync: useLb });
  if (restored) await cells.continueTo.awaitable(numIter, simDone);
  const perCell = await cells.getNumParticles.ret();
  const created = restored?.created ?? perCell.reduce((a, b) => a + b, 0);
  console.log(restored ? `Restored from a checkpoint: ${perCell.reduce((a, b) => a + b, 0)} particles, now on ${charm.numPes()} PEs` : `Total particles created: ${created}`);
  console.log(`Initial conditions: min particles per cell: ${Math.min(...perCell)}, max particles per cell: ${Math.max(...perCell)}`);
  console.log("Starting simulation");
  const t0 = performance.now();
  cells.run(); // a broadcast
  await simDone;
  const elapsed = (performance.now() - t0) / 1000;
  console.log(`Particle simulation done, elapsed time: ${elapsed.toFixed(3)} s (${((elapsed * 1000) / numIter).toFixed(3)} ms per iteration)`);
  if (useLb) {
    const rounds = await charm.lbHistory(cells);
    const moved = rounds.reduce((a, r) => a + r.moved, 0);
    const last = rounds.at(-1);
    const fmt = (loads: number[]) => loads.map((ms) => ms.toFixed(1)).join(" / ");
    console.log(`Load balancing: ${rounds.length} rounds, ${moved} cells moved` + (last ? `; last round, ms per PE: ${fmt(last.before)} before, ${fmt(last.after)} planned` : ""));
  }
  const counts = await cells.getNumParticles.ret();
  const final = counts.reduce((a, b) => a + b, 0);
  console.log(`Total particles at the end: ${final} (${final === created ? "conserved" : `NOT conserved: created ${created}`})`);
  console.log(`Particles per cell: ${counts.join(" ")}; sum of coordinates: ${(await cells.positionSum.ret()).reduce((a, b) => a + b, 0)}`);
  if (checkpointDir) {
    const saved = await charm.checkpoint(checkpointDir, { cells, created });
    console.log(`Checkpoint: ${saved.elements} chares, ${saved.bytes} bytes in ${checkpointDir}`);
  }
  charm.exit(final === created ? 0 : 1);
}
charm.start(main);
