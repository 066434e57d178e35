// A ring of chares that trade values with both neighbours every iteration, while the load
// balancer moves them every few iterations (AtSync): the pattern of a 1-D stencil. With
// --channels the values travel on channels instead of entry-method calls. The checksum at the
// end is the same on any number of PEs, with or without balancing.
//
//   npx charmrun +p3 examples/ring.ts [elements [iterations]] [--channels] [--no-lb]
//   npx charmrun +p5 +balancer rotate examples/ring.ts 64 40
import { charm, Chare, Channel, Future, Reducer } from "charm4ts";

const SYNC_EVERY = 5;

export class Ring extends Chare {
  iteration = 0;
  value: number;
  /** Values from the neighbours that arrived ahead of this element's iteration: [iteration, from left?, value]. */
  early: Array<[number, boolean, number]> = [];
  /** The iteration whose value this element has sent (entry-method mode). */
  sentFor = -1;
  left: Channel<number> | undefined;
  right: Channel<number> | undefined;

  constructor(readonly size: number, readonly iterations: number, readonly channels: boolean, readonly balance: boolean, readonly done: Future<number>) {
    super();
    this.value = this.thisIndex[0]!;
    if (channels) {
      this.left = new Channel(this, this.thisProxy.at(this.neighbour(-1)));
      this.right = new Channel(this, this.thisProxy.at(this.neighbour(+1)));
    }
  }

  neighbour(d: number): number {
    return (this.thisIndex[0]! + d + this.size) % this.size;
  }

  /** One iteration: send this value both ways, take both neighbours' values, combine. */
  async step(): Promise<void> {
    let fromLeft: number, fromRight: number;
    if (this.channels) {
      this.left!.send(this.value);
      this.right!.send(this.value);
      [fromLeft, fromRight] = [await this.left!.recv(), await this.right!.recv()];
    } else {
      this.thisProxy.at(this.neighbour(-1)).ghost(this.iteration, false, this.value);
      this.thisProxy.at(this.neighbour(+1)).ghost(this.iteration, true, this.value);
      this.sentFor = this.iteration;
      this.tryAdvance(); // both values may be here already
      return; // else it goes on in ghost() once they are
    }
    this.advance(fromLeft, fromRight);
  }

  /** A neighbour's value for an iteration (it may be one ahead of this element). */
  ghost(iteration: number, fromLeft: boolean, value: number): void {
    this.early.push([iteration, fromLeft, value]);
    this.tryAdvance();
  }

  /** Goes on once this element has sent its value for this iteration and has both neighbours'. */
  private tryAdvance(): void {
    if (this.sentFor !== this.iteration) return;
    const mine = this.early.filter(([i]) => i === this.iteration);
    if (mine.length < 2) return;
    this.early = this.early.filter(([i]) => i !== this.iteration);
    const left = mine.find(([, l]) => l)![2];
    const right = mine.find(([, l]) => !l)![2];
    this.advance(left, right);
  }

  private advance(left: number, right: number): void {
    this.value = (left + 2 * this.value + right) % 1_000_003;
    this.iteration++;
    if (this.iteration === this.iterations) this.contribute(this.value, Reducer.sum, this.done);
    else if (this.balance && this.iteration % SYNC_EVERY === 0) this.AtSync();
    else this.thisProxy.at(this.thisIndex[0]!).step();
  }

  resumeFromSync(): void {
    this.thisProxy.at(this.thisIndex[0]!).step();
  }
}

async function main(args: string[]): Promise<void> {
  const numbers = args.slice(1).filter((a) => !a.startsWith("--")).map(Number);
  const [size = 24, iterations = 30] = numbers;
  const channels = args.includes("--channels");
  const balance = !args.includes("--no-lb");
  const done = new Future<number>();
  const ring = charm.array(Ring, size, { args: [size, iterations, channels, balance, done], ...(balance ? { useAtSync: true } : {}) });
  ring.step();
  const checksum = await done;
  const moved = balance ? (await charm.lbHistory(ring)).reduce((n, r) => n + r.moved, 0) : 0;
  console.log(`Ring of ${size} over ${charm.numPes()} PEs, ${iterations} iterations by ${channels ? "channels" : "entry methods"}: checksum ${checksum}, ${moved} moves`);
  charm.exit();
}
charm.start(main);
