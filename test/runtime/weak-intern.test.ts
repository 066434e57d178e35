// The proxies' interning table: the same object for the same key while anyone holds it, across
// the sweeps that drop collected entries; a new generation (runtime) starts afresh.
import { describe, expect, it } from "vitest";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { WeakInterner } from "../../runtime/core/weak-intern.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
// WeakRefs made in a job keep their objects alive until it ends: collect after a turn.
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("WeakInterner", () => {
  it("hands out the same object for a key while it is held, through sweeps of the others", async () => {
    const table = new WeakInterner();
    const held = new Map<number | string, object>();
    for (let i = 0; i < 5000; i++) {
      const key = i % 2 ? i : `e${i}`;
      const obj = table.get(1, key, () => ({ i }));
      if (i % 10 === 0) held.set(key, obj);
    }
    await nextTurn();
    gc();
    for (let i = 5000; i < 20_000; i++) table.get(1, i, () => ({ i })); // several sweeps
    for (const [key, obj] of held) expect(table.get(1, key, () => ({ fresh: true }))).toBe(obj);
    expect(held.size).toBe(500);
  });

  it("find sees what add kept, until the object is collected; a swept table keeps the held ones", async () => {
    const table = new WeakInterner();
    const kept = { k: 1 };
    expect(table.find(1, 1)).toBeUndefined();
    table.add(1, kept);
    expect(table.find(1, 1)).toBe(kept);
    for (let i = 2; i < 3000; i++) table.add(i, { i }); // garbage once this job ends
    await nextTurn();
    gc();
    for (let i = 3000; i < 6000; i++) table.add(i, { i }); // sweeps drop the collected ones
    expect(table.find(1, 1)).toBe(kept);
    expect(table.find(1, 2)).toBeUndefined();
  });

  it("forgets every key of an earlier generation", () => {
    const table = new WeakInterner();
    const first = table.get(1, 7, () => ({ g: 1 }));
    expect(table.get(1, 7, () => ({ g: 0 }))).toBe(first);
    expect(table.get(2, 7, () => ({ g: 2 }))).toEqual({ g: 2 });
  });
});
