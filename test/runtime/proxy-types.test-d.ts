// Compile-time tests of the proxy types mapped from chare classes (issue 2, item 4).
// Type-checked by vitest (typecheck mode), never run.
import { describe, expectTypeOf, it } from "vitest";
import { charm, Chare, Future, Reducer, type CollectionProxy, type ElementProxy, type EntryMethodNames } from "../../runtime/index.ts";

class Worker extends Chare {
  count = 0;
  partner: ElementProxy<Worker> | undefined; // a field holding a proxy to its own class
  constructor(readonly scale: number, readonly name: string) {
    super();
  }
  add(a: number, b: number): number {
    return (a + b) * this.scale;
  }
  async later(x: number): Promise<string> {
    return `${x}`;
  }
  nothing(): void {}
  optional(x?: number): number {
    return x ?? 0;
  }
  withProxy(p: ElementProxy<Worker>, all: CollectionProxy<Worker>): boolean {
    return p !== undefined && all !== undefined;
  }
  usesThisProxy(): void {
    expectTypeOf(this.thisProxy.at(0).add.ret(1, 2)).toEqualTypeOf<Future<number>>();
    expectTypeOf(this.thisProxy.add.ret(1, 2)).toEqualTypeOf<Future<number[]>>();
    expectTypeOf(this.thisIndex).toEqualTypeOf<readonly number[]>();
    this.contribute(1, Reducer.sum, this.thisProxy.at(0).nothing);
  }
}

class NoArgs extends Chare {
  ping(): number {
    return 1;
  }
}

class Fib extends Chare {
  constructor(readonly n: number, readonly parent: Future<number> | ElementProxy<Fib>, readonly isRoot: boolean) {
    super();
    if (n > 1) {
      charm.chare(Fib, [n - 1, this.thisProxy, false]);
      charm.chare(Fib, [n - 2, this.thisProxy, false]);
    }
  }
  result(_value: number): void {}
}

/** All constructor parameters optional: args may be left out. */
class Optional extends Chare {
  constructor(readonly label = "x", readonly n?: number) {
    super();
  }
  hi(): string {
    return this.label;
  }
  selfProxies(): void {
    // thisProxy is usable as an element proxy (Fib passes it to its children as their parent)
    const asElement: ElementProxy<Optional> = this.thisProxy;
    const element: ElementProxy<Optional> = this.thisProxy.at(0);
    void asElement;
    void element;
  }
}

declare const arr: CollectionProxy<Worker>;
declare const el: ElementProxy<Worker>;

describe("element proxies", () => {
  it("ret is a Future of the return value; async methods are unwrapped", () => {
    expectTypeOf(el.add.ret(1, 2)).toEqualTypeOf<Future<number>>();
    expectTypeOf(el.later.ret(1)).toEqualTypeOf<Future<string>>();
    expectTypeOf(el.nothing.ret()).toEqualTypeOf<Future<void>>();
  });

  it("awaitable is a Future<void>; a plain call returns nothing", () => {
    expectTypeOf(el.add.awaitable(1, 2)).toEqualTypeOf<Future<void>>();
    expectTypeOf(el.later.awaitable(1)).toEqualTypeOf<Future<void>>();
    expectTypeOf(el.add(1, 2)).toEqualTypeOf<void>();
  });

  it("awaiting a ret future gives the value", async () => {
    expectTypeOf(await el.add.ret(1, 2)).toEqualTypeOf<number>();
    expectTypeOf(await el.later.ret(1)).toEqualTypeOf<string>();
  });

  it("parameter types are checked", () => {
    expectTypeOf(el.add).parameters.toEqualTypeOf<[number, number]>();
    expectTypeOf(el.add.ret).parameters.toEqualTypeOf<[number, number]>();
    expectTypeOf(el.optional).parameters.toEqualTypeOf<[x?: number]>();
    // @ts-expect-error wrong argument type
    el.add("1", 2);
    // @ts-expect-error missing argument
    el.add.ret(1);
    // @ts-expect-error too many arguments
    el.later.awaitable(1, 2);
    // @ts-expect-error a collection proxy where an element proxy is expected
    el.withProxy(arr, arr);
    el.withProxy(el, arr);
    el.optional();
  });

  it("Chare's own members and non-entry fields are not callable entry methods", () => {
    // @ts-expect-error thisIndex is not an entry method
    el.thisIndex;
    // @ts-expect-error thisProxy is not an entry method
    el.thisProxy;
    // @ts-expect-error contribute is not an entry method
    el.contribute;
    // @ts-expect-error reduce is not an entry method
    el.reduce;
    // @ts-expect-error allreduce is not an entry method
    el.allreduce;
    // @ts-expect-error unknown names are errors
    el.nope;
    // @ts-expect-error fields can't be called
    el.count();
    // @ts-expect-error fields have no ret
    el.partner.ret();
    expectTypeOf<EntryMethodNames<Worker>>().toEqualTypeOf<"add" | "later" | "nothing" | "optional" | "withProxy" | "usesThisProxy">();
  });
});

describe("collection proxies", () => {
  it("a broadcast's ret is a Future of an array of return values; async unwrapped", () => {
    expectTypeOf(arr.add.ret(1, 2)).toEqualTypeOf<Future<number[]>>();
    expectTypeOf(arr.later.ret(1)).toEqualTypeOf<Future<string[]>>();
    expectTypeOf(arr.add.awaitable(1, 2)).toEqualTypeOf<Future<void>>();
    expectTypeOf(arr.add(1, 2)).toEqualTypeOf<void>();
    // @ts-expect-error parameters checked on broadcasts too
    arr.add.ret(1, "2");
    // @ts-expect-error thisIndex is not an entry method
    arr.thisIndex;
    // @ts-expect-error contribute is not an entry method
    arr.contribute;
  });

  it("at(…) and [i] give element proxies", () => {
    expectTypeOf(arr.at(1)).toEqualTypeOf<ElementProxy<Worker>>();
    expectTypeOf(arr.at(1, 2, 3)).toEqualTypeOf<ElementProxy<Worker>>();
    expectTypeOf(arr[3]!).toEqualTypeOf<ElementProxy<Worker>>();
    // @ts-expect-error indices are numbers
    arr.at("1");
    // @ts-expect-error element proxies have no at()
    el.at(0);
  });

  it("entry methods are usable as reduction targets", () => {
    class Target extends Chare {
      done(_sum: number): void {}
      go(f: Future<number>): void {
        this.contribute(1, Reducer.sum, f);
        this.contribute(1, Reducer.sum, this.thisProxy.at(0).done);
        this.contribute(1, Reducer.sum, this.thisProxy.done);
        // @ts-expect-error a string is not a target
        this.contribute(1, Reducer.sum, "nowhere");
      }
    }
    expectTypeOf(Target).toBeConstructibleWith as unknown;
  });
});

describe("creation is typed from the constructor", () => {
  it("charm.array args are the constructor's parameters", () => {
    expectTypeOf(charm.array(Worker, 4, { args: [2, "w"] })).toEqualTypeOf<CollectionProxy<Worker>>();
    charm.array(Worker, [2, 3], { args: [2, "w"] });
    // @ts-expect-error args are required when the constructor has parameters
    charm.array(Worker, 4);
    // @ts-expect-error wrong argument types
    charm.array(Worker, 4, { args: ["2", "w"] });
    // @ts-expect-error missing argument
    charm.array(Worker, 4, { args: [2] });
    expectTypeOf(charm.array(NoArgs, 4)).toEqualTypeOf<CollectionProxy<NoArgs>>();
    charm.array(NoArgs, [2, 2, 2, 2, 2, 2]);
  });

  it("charm.group and charm.chare args are typed too", () => {
    expectTypeOf(charm.group(Worker, { args: [1, "g"] })).toEqualTypeOf<CollectionProxy<Worker>>();
    // @ts-expect-error wrong group args
    charm.group(Worker, { args: [1, 2] });
    expectTypeOf(charm.chare(Worker, [1, "s"], { onPe: 1 })).toEqualTypeOf<ElementProxy<Worker>>();
    // @ts-expect-error wrong chare args
    charm.chare(Worker, [1]);
    expectTypeOf(charm.chare(NoArgs)).toEqualTypeOf<ElementProxy<NoArgs>>();
  });

  it("optional constructor parameters make args optional", () => {
    expectTypeOf(charm.array(Optional, 2)).toEqualTypeOf<CollectionProxy<Optional>>();
    charm.array(Optional, 2, { args: ["y"] });
    charm.array(Optional, 2, { args: ["y", 3] });
    charm.array(Optional, 2, { map: undefined });
    charm.group(Optional);
    charm.chare(Optional);
    charm.chare(Optional, ["z"], { onPe: 0 });
    // @ts-expect-error wrong optional argument type
    charm.array(Optional, 2, { args: [1] });
    // @ts-expect-error wrong optional argument type
    charm.chare(Optional, [undefined, "3"]);
  });

  it("sparse arrays, insert, doneInserting and awaitCreation take the proxies creation returns", async () => {
    const sparse = charm.sparseArray(Optional, { ndims: 2 });
    expectTypeOf(sparse).toEqualTypeOf<CollectionProxy<Optional>>();
    charm.insert(sparse, [1, 2], ["a"]);
    await charm.doneInserting(sparse);
    await charm.awaitCreation(charm.array(Optional, 2), charm.group(NoArgs), charm.chare(Worker, [1, "w"], { awaitable: true }));
  });

  it("charm.chare(Fib, [n, proxy or future, bool])", () => {
    const done = new Future<number>();
    const root = charm.chare(Fib, [10, done, true]);
    expectTypeOf(root).toEqualTypeOf<ElementProxy<Fib>>();
    charm.chare(Fib, [9, root, false]);
    // @ts-expect-error the parent must be a Future<number> or a Fib proxy
    charm.chare(Fib, [9, "parent", false]);
    // @ts-expect-error a proxy of another class is not a Fib proxy
    charm.chare(Fib, [9, charm.chare(NoArgs), false]);
    // @ts-expect-error n must be a number
    charm.chare(Fib, ["9", done, false]);
  });

  it("classes that don't extend Chare are rejected", () => {
    class Plain {
      x = 1;
    }
    // @ts-expect-error not a chare class
    charm.array(Plain, 2);
  });
});

describe("futures", () => {
  it("Future<T> is awaitable and sends T", async () => {
    const f = new Future<number>();
    expectTypeOf(await f).toEqualTypeOf<number>();
    f.send(1);
    // @ts-expect-error wrong value type
    f.send("1");
    const multi = new Future<number[]>(3);
    multi.send(1); // one element of a multi-value future
    expectTypeOf(await multi).toEqualTypeOf<number[]>();
  });
});
