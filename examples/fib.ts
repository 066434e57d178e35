// The seed's Fibonacci with futures: one chare per call, results flow back up to a future.
//
//   npx charmrun +p2 examples/fib.ts N     (N a whole number from 0; each call is a chare, so keep it small: 20 makes ~22,000)
import { charm, Chare, Future, type ElementProxy } from "charm4ts";

export class Fib extends Chare {
  count = 2;
  total = 0;

  constructor(readonly n: number, readonly parent: Future<number> | ElementProxy<Fib>, readonly isRoot: boolean) {
    super();
    if (n <= 1) {
      this.respond(n);
      return;
    }
    charm.chare(Fib, [n - 1, this.thisProxy, false]);
    charm.chare(Fib, [n - 2, this.thisProxy, false]);
  }

  result(val: number) {
    this.total += val;
    this.count -= 1;
    if (this.count === 0) this.respond(this.total);
  }

  respond(total: number) {
    if (this.isRoot) (this.parent as Future<number>).send(total);
    else (this.parent as ElementProxy<Fib>).result(total);
  }
}

async function main(args: string[]) {
  // Number(undefined) is NaN, and Fib(NaN) never reaches n <= 1: the run would never end.
  if (!/^\d+$/.test(args[1] ?? "")) {
    console.error(`expected N, a whole number from 0, got ${args[1] === undefined ? "nothing" : JSON.stringify(args[1])}\nusage: charmrun +p2 examples/fib.ts N`);
    process.exit(2);
  }
  const doneFuture = new Future<number>();
  charm.chare(Fib, [Number(args[1]), doneFuture, true]);
  const fn = await doneFuture;
  console.log(`Fib(${Number(args[1])}) = ${fn}`);
  charm.exit();
}
charm.start(main);
