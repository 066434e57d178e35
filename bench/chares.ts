// Chares the benchmark suite drives; every PE loads this module.
import { charm, Chare, Future, Reducer, type ElementProxy, type SectionProxy } from "../runtime/index.ts";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Ping-pong, ret loops and one-way streams between elements on the same or another PE. */
export class Bouncer extends Chare {
  left = 0;
  received = 0;
  done: Future<void> | undefined;
  partner: ElementProxy<Bouncer> | undefined;

  /** Tells this element who its partner is (both sides, before a ping-pong). */
  setup(partner: ElementProxy<Bouncer>) {
    this.partner = partner;
  }
  pingPong(iters: number, done: Future<void>) {
    this.left = iters;
    this.done = done;
    this.partner!.ball();
  }
  ball() {
    this.partner!.back();
  }
  back() {
    if (--this.left === 0) this.done!.send();
    else this.partner!.ball();
  }
  echo(x: number): number {
    return x;
  }
  async retLoop(target: ElementProxy<Bouncer>, iters: number): Promise<void> {
    for (let i = 0; i < iters; i++) await target.echo.ret(i);
  }
  expected = 0;
  /** Readies a receiver: `done` resolves once `expected` ticks (or doubles) have arrived. */
  arm(expected: number, done: Future<void>) {
    this.received = 0;
    this.expected = expected;
    this.done = done;
  }
  stream(target: ElementProxy<Bouncer>, count: number, done: Future<void>) {
    target.arm(count, done); // same sender, same channel: arrives before the ticks
    for (let i = 0; i < count; i++) target.tick();
  }
  tick() {
    if (++this.received === this.expected) this.done!.send();
  }
  blast(target: ElementProxy<Bouncer>, data: Float64Array, times: number, done: Future<void>) {
    target.arm(times * data.length, done);
    for (let i = 0; i < times; i++) target.sink(data);
  }
  /** Passes `data` to the partner and back, `left` times in all, moving it each time (charm.move): no copies. */
  toss(data: Float64Array, left: number, done: Future<void>) {
    if (left === 0) done.send();
    else this.partner!.toss(charm.move(data), left - 1, done);
  }
  sink(data: Float64Array) {
    this.received += data.length;
    if (this.received === this.expected) this.done!.send();
  }
}

/** One contribution per broadcast: the broadcast + reduction benchmark. */
export class Summer extends Chare {
  step(done: Future<number>) {
    this.contribute(1, Reducer.sum, done);
  }
}

/** Adds 1 over a section it is handed (or, without one, over its whole array): multicast + section reduction. */
export class SectionSummer extends Chare {
  step(section: SectionProxy<SectionSummer> | undefined, done: Future<number>) {
    this.contribute(1, Reducer.sum, done, section);
  }
}

/** A chare with no state: creation cost and memory per idle chare. */
export class Idle extends Chare {}

/** Heap measurements per PE. */
export class HeapProbe extends Chare {
  heapUsed(): number {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    gc();
    return getHeapStatistics().used_heap_size;
  }
}

/** The seed's Fib, as a benchmark of chare creation and small messages. */
export class FibBench extends Chare {
  count = 2;
  total = 0;
  constructor(readonly n: number, readonly parent: Future<number> | ElementProxy<FibBench>, readonly isRoot: boolean) {
    super();
    if (n <= 1) { this.respond(n); return; }
    charm.chare(FibBench, [n - 1, this.thisProxy, false]);
    charm.chare(FibBench, [n - 2, this.thisProxy, false]);
  }
  result(val: number) {
    this.total += val;
    if (--this.count === 0) this.respond(this.total);
  }
  respond(total: number) {
    if (this.isRoot) (this.parent as Future<number>).send(total);
    else (this.parent as ElementProxy<FibBench>).result(total);
  }
}

/** A tiny pool task: the pool's throughput benchmark. */
export function tinyTask(x: number): number {
  return x + 1;
}

/** An element with `bytes` of state in a typed array and a few small fields (the checkpoint benchmarks). */
export class Blob extends Chare {
  data: Float64Array;
  step = 0;
  label: string;

  constructor(bytes: number) {
    super();
    this.data = new Float64Array(bytes / 8).fill(this.thisIndex[0]!);
    this.label = `blob ${this.thisIndex[0]}`;
  }
}
