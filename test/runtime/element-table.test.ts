// A singleton's table of elements on its PE: it must answer as the Map it replaces does.
import { describe, expect, it } from "vitest";
import { OneElement, elementTable } from "../../runtime/core/element-table.ts";
import type { ElementRecord } from "../../runtime/core/chare.ts";

const record = (key: string) => ({ key }) as unknown as ElementRecord;

describe("OneElement", () => {
  it("answers get, has, size, values and delete like a Map, for one key and for more", () => {
    const one = new OneElement();
    const map = new Map<string, ElementRecord>();
    const a = record("0"), b = record("1"), c = record("0");
    const steps: Array<(t: OneElement | Map<string, ElementRecord>) => unknown> = [
      (t) => t.size, (t) => t.get("0"), (t) => t.has("0"),
      (t) => t.set("0", a), (t) => t.get("0"), (t) => t.has("0"), (t) => t.has("1"), (t) => t.size,
      (t) => t.set("1", b), (t) => t.get("1"), (t) => t.size, (t) => [...t.values()],
      (t) => t.set("0", c), (t) => t.get("0"), (t) => [...t.values()].length,
      (t) => t.delete("0"), (t) => t.delete("0"), (t) => t.get("0"), (t) => t.has("0"), (t) => t.size, (t) => [...t.values()],
      (t) => t.delete("1"), (t) => t.size, (t) => [...t.values()],
    ];
    for (const [i, step] of steps.entries()) {
      const got = step(one), want = step(map);
      // set returns the Map itself; OneElement returns nothing (the runtime never uses it)
      if (want === map) continue;
      expect(got, `step ${i}`).toEqual(want);
    }
  });

  it("is what a singleton's collection gets; other kinds get a Map", () => {
    expect(elementTable("single")).toBeInstanceOf(OneElement);
    for (const kind of ["array", "sparse", "group", undefined]) expect(elementTable(kind)).toBeInstanceOf(Map);
  });
});
