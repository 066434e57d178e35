// Compile-time tests of section proxy types: split, combine and slice keep the chare class, so a
// multicast is typed like a broadcast; sections are accepted where Chare takes them.
// Type-checked by vitest (typecheck mode), never run.
import { describe, expectTypeOf, it } from "vitest";
import { charm, Chare, Future, Reducer, type CollectionProxy, type SectionProxy } from "../../runtime/index.ts";

class Worker extends Chare {
  add(a: number, b: number): number {
    return a + b;
  }
  async later(x: number): Promise<string> {
    return `${x}`;
  }
  report(_total: number): void {}
  useSection(section: SectionProxy<Worker>): void {
    this.contribute(1, Reducer.sum, section.report, section);
    this.reduce(section.report, 1, Reducer.sum, section);
    expectTypeOf(this.allreduce<number>(1, Reducer.sum, section)).toEqualTypeOf<Future<number>>();
    // A built-in reducer's result has the data's type without saying it (it was Future<unknown>:
    // `(await this.allreduce(x, Reducer.max)) > tol` failed to compile with TS18046).
    expectTypeOf(this.allreduce(1.5, Reducer.max)).toEqualTypeOf<Future<number>>();
    const data: Float64Array = new Float64Array(2);
    expectTypeOf(this.allreduce(data, Reducer.sum, section)).toEqualTypeOf<Future<Float64Array>>();
    expectTypeOf(this.allreduce("a", Reducer.gather)).toEqualTypeOf<Future<string[]>>();
    expectTypeOf(this.allreduce()).toEqualTypeOf<Future<unknown>>();
    // @ts-expect-error a collection proxy is not a section
    this.contribute(1, Reducer.sum, section.report, this.thisProxy);
  }
}

class Other extends Chare {
  add(a: number, b: number): number {
    return a * b;
  }
  only(): void {}
}

declare const arr: CollectionProxy<Worker>;
declare const other: CollectionProxy<Other>;

describe("section proxies", () => {
  it("split, slice and combine keep the class: multicasts are typed like broadcasts", () => {
    const parts = charm.split(arr, 2, { by: (index) => index[0]! % 2 });
    expectTypeOf(parts).toEqualTypeOf<SectionProxy<Worker>[]>();
    const sec = parts[0]!;
    expectTypeOf(sec.add.ret(1, 2)).toEqualTypeOf<Future<number[]>>();
    expectTypeOf(sec.later.ret(1)).toEqualTypeOf<Future<string[]>>();
    expectTypeOf(sec.add.awaitable(1, 2)).toEqualTypeOf<Future<void>>();
    expectTypeOf(sec.add(1, 2)).toEqualTypeOf<void>();
    expectTypeOf(arr.slice(0, 10, 2)).toEqualTypeOf<SectionProxy<Worker>>();
    expectTypeOf(arr.slice([0, 4], 1)).toEqualTypeOf<SectionProxy<Worker>>();
    expectTypeOf(charm.split(sec, 3, { elems: [[0], [1, 2], [[3]]] })).toEqualTypeOf<SectionProxy<Worker>[]>();
    expectTypeOf(charm.combine(arr, sec)).toEqualTypeOf<SectionProxy<Worker>>();
    // @ts-expect-error parameters are checked on multicasts
    sec.add.ret(1, "2");
    // @ts-expect-error sections have no element access
    sec.at(0);
    // @ts-expect-error Chare's own members are not entry methods
    sec.contribute;
  });

  it("a combination of classes offers the entry methods they share", () => {
    const both = charm.combine(arr, other);
    expectTypeOf(both.add.ret(1, 2)).toEqualTypeOf<Future<number[]>>();
    // @ts-expect-error only Other has it
    both.only();
  });

  it("a section's bound method is a reduction target", () => {
    const sec = arr.slice(0, 4);
    const f = new Future<number>();
    void f;
    expectTypeOf(sec.report).toBeCallableWith(3);
    charm.startQD(sec.report);
  });
});
