// How a PE keeps in-memory checkpoint parts (checkpoint/memory.ts): the last two of each PE, the
// memory of the one before them reused for the next, shared with a buddy thread and copied for
// an asker in another process. checkpoint-recover.test.ts runs the same through whole runtimes.
import { describe, expect, it } from "vitest";
import { adoptMemory, buddyOf, fetchPart, keepPart, partMemory, type MemoryRuntime } from "../../runtime/checkpoint/memory.ts";

let nextPe = 100; // each test its own PE numbers: the parts are this thread's module state
function pe(options: { sharesWithBuddy: boolean; sharesWithDriver?: boolean }): MemoryRuntime {
  const self = nextPe;
  nextPe += 10;
  const transport = { sharesMemoryWith: (to: number) => (to === -1 ? options.sharesWithDriver ?? options.sharesWithBuddy : options.sharesWithBuddy) };
  return { self, numPes: 1000, transport } as unknown as MemoryRuntime;
}

function filled(memory: Uint8Array, byte: number): Uint8Array {
  memory.fill(byte);
  return memory;
}

describe("in-memory checkpoint parts", () => {
  it("keeps a PE's last two parts; the one before them is gone", () => {
    const rt = pe({ sharesWithBuddy: true });
    keepPart(rt.self, "a", new Uint8Array([1]));
    keepPart(rt.self, "b", new Uint8Array([2]));
    expect([...fetchPart(rt, rt.self, "a")]).toEqual([1]);
    keepPart(rt.self, "c", new Uint8Array([3]));
    expect(() => fetchPart(rt, rt.self, "a")).toThrow(/doesn't hold PE \d+'s part of the last in-memory checkpoint/);
    expect([...fetchPart(rt, rt.self, "b")]).toEqual([2]);
    expect([...fetchPart(rt, rt.self, "c")]).toEqual([3]);
  });

  it("writes the third part into the first one's memory, shared with a buddy thread; the second stays whole", () => {
    const rt = pe({ sharesWithBuddy: true });
    const first = filled(partMemory(rt, 1000, buddyOf(rt.self, rt.numPes)), 1);
    expect(first.buffer).toBeInstanceOf(SharedArrayBuffer);
    keepPart(rt.self, "s1", first);
    const second = filled(partMemory(rt, 1000, buddyOf(rt.self, rt.numPes)), 2);
    expect(second.buffer).not.toBe(first.buffer);
    keepPart(rt.self, "s2", second);
    const third = partMemory(rt, 1000, buddyOf(rt.self, rt.numPes));
    expect(third.buffer).toBe(first.buffer);
    expect(third.byteLength).toBe(1000);
    expect(() => fetchPart(rt, rt.self, "s1")).toThrow(/doesn't hold/); // dropped before its memory is written again
    expect(fetchPart(rt, rt.self, "s2").every((b) => b === 2)).toBe(true);
  });

  it("takes new memory when the part grew past the old one's room, or the buddy is in another process", () => {
    const rt = pe({ sharesWithBuddy: true });
    const small = partMemory(rt, 100, buddyOf(rt.self, rt.numPes));
    expect(small.buffer.byteLength).toBeGreaterThan(100); // room for a part that grows a little
    keepPart(rt.self, "s1", small);
    keepPart(rt.self, "s2", partMemory(rt, 100, buddyOf(rt.self, rt.numPes)));
    expect(partMemory(rt, small.buffer.byteLength + 1, buddyOf(rt.self, rt.numPes)).buffer).not.toBe(small.buffer);

    const far = pe({ sharesWithBuddy: false });
    const part = partMemory(far, 64, buddyOf(far.self, far.numPes));
    expect(part.buffer).toBeInstanceOf(ArrayBuffer);
    keepPart(far.self, "s1", part);
    keepPart(far.self, "s2", partMemory(far, 64, buddyOf(far.self, far.numPes)));
    expect(partMemory(far, 64, buddyOf(far.self, far.numPes)).buffer).toBe(part.buffer); // reused too: the buddy's copy went over the wire
  });

  it("gives the driver the shared memory itself where it is a thread of this process, a copy where it isn't", () => {
    const here = pe({ sharesWithBuddy: true, sharesWithDriver: true });
    const part = filled(partMemory(here, 32, buddyOf(here.self, here.numPes)), 7);
    keepPart(here.self, "s", part);
    expect(fetchPart(here, here.self, "s").buffer).toBe(part.buffer);

    const elsewhere = pe({ sharesWithBuddy: true, sharesWithDriver: false });
    const shared = filled(partMemory(elsewhere, 32, buddyOf(elsewhere.self, elsewhere.numPes)), 9);
    keepPart(elsewhere.self, "s", shared);
    const copy = fetchPart(elsewhere, elsewhere.self, "s");
    expect(copy.buffer).toBeInstanceOf(ArrayBuffer);
    expect([...copy]).toEqual([...shared]);
  });

  it("after a recovery, writes its first part into the memory of the part it restored from; each buffer once, whole ones only", () => {
    const rt = pe({ sharesWithBuddy: true });
    const restoredFrom = new Uint8Array(new SharedArrayBuffer(4096), 0, 4000);
    const sharedMessage = new SharedArrayBuffer(4096);
    adoptMemory([restoredFrom, new Uint8Array(sharedMessage, 0, 2048), new Uint8Array(sharedMessage, 2048, 2048), restoredFrom]);
    expect(partMemory(rt, 4000, buddyOf(rt.self, rt.numPes)).buffer).toBe(restoredFrom.buffer);
    expect(partMemory(rt, 2048, buddyOf(rt.self, rt.numPes)).buffer).toBe(sharedMessage); // the view at offset 0 brought its buffer, once
    expect(partMemory(rt, 2048, buddyOf(rt.self, rt.numPes)).buffer).not.toBe(sharedMessage);
    adoptMemory([]);
  });
});

describe("buddyOf: where a PE's in-memory part is also kept", () => {
  it("the next PE in another process, so that one process's death can't take a part and its copy", () => {
    const slots = [0, 0, 1, 1, 2]; // +processes +ppn 2 on 5 PEs
    expect([0, 1, 2, 3, 4].map((pe) => buddyOf(pe, 5, (p) => slots[p]!))).toEqual([2, 2, 4, 4, 0]);
    const mixed = [-1, 0, 0]; // +mixed: PE 0 a thread of the driver's process, then a process of 2
    expect([0, 1, 2].map((pe) => buddyOf(pe, 3, (p) => mixed[p]!))).toEqual([1, 0, 0]);
  });

  it("the next PE when every PE shares one process (threads, or one PE process hosting them all)", () => {
    expect([0, 1, 2].map((pe) => buddyOf(pe, 3))).toEqual([1, 2, 0]);
    expect([0, 1].map((pe) => buddyOf(pe, 2, () => 0))).toEqual([1, 0]);
  });
});
