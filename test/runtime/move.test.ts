// charm.move(array): the array's memory goes to the receiver instead of a copy (same PE or
// another, threads or processes), the sender's array is empty afterwards, and what can't move
// is copied as before.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, type ElementProxy } from "../../runtime/index.ts";
import { Keeper } from "./fixtures/move.ts";
import { bounded } from "../bounded.ts";
import { TRANSPORTS, over } from "./transports.ts";

const modules = [new URL("./fixtures/move.ts", import.meta.url).href];
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 20_000, what);
const ramp = (n: number) => Float64Array.from({ length: n }, (_, i) => i);

describe.each(TRANSPORTS.filter((t) => t === "threads" || t === "processes"))("charm.move over %s", (transport) => {
  beforeAll(() => charm.start({ numPes: 2, modules, ...over(transport) }));
  afterAll(() => charm.shutdown());

  it("a moved array arrives whole, and the sender's is empty from the call on", async () => {
    const keepers = charm.array(Keeper, 4); // 0, 1 on PE 0; 2, 3 on PE 1
    const big = ramp(131072);
    const reply = keepers.at(2).keep.ret(charm.move(big));
    expect(big.length).toBe(0);
    expect(await waitFor(reply, "the sum of a moved 1 MiB array")).toEqual([(131072 * 131071) / 2, 131072, 0]);
  });

  it("a view into a larger buffer keeps its place in it, and the receiver may keep it", async () => {
    const keepers = charm.array(Keeper, 4);
    const whole = ramp(100);
    const part = whole.subarray(10, 20);
    expect(await waitFor(keepers.at(3).keep.ret(charm.move(part)), "a moved subarray")).toEqual([145, 10, 80]);
    expect(whole.length).toBe(0); // the buffer went, so every view on it here is empty
    expect(await waitFor(keepers.at(3).sumKept.ret(), "the kept subarray's sum")).toBe(145);
  });

  it("PEs move arrays on to the same PE and to another one", async () => {
    const keepers = charm.array(Keeper, 4);
    const lengths = await waitFor(Promise.all([keepers.at(0).passOn.ret(ramp(1000), keepers.at(1) as ElementProxy<Keeper>), keepers.at(1).passOn.ret(ramp(1000), keepers.at(2) as ElementProxy<Keeper>)]), "two arrays moved on by PEs");
    expect(lengths).toEqual([0, 0]);
    const sums = await waitFor(Promise.all([keepers.at(1).sumKept.ret(), keepers.at(2).sumKept.ret()]), "the sums of the moved arrays");
    expect(sums).toEqual([499500, 499500]);
  });

  it("memory that can't move (a pooled Buffer's) is copied and stays usable here; a non-array is refused", async () => {
    const keepers = charm.array(Keeper, 4);
    const pooled = Buffer.from("abcdefghabcdefgh"); // shares Node's pool of small Buffers
    const view = new Float64Array(pooled.buffer, pooled.byteOffset, 2);
    const [, length] = await waitFor(keepers.at(2).keep.ret(charm.move(view)), "an array over a pooled Buffer");
    expect(length).toBe(2);
    expect(view.length).toBe(2);
    expect(pooled.toString()).toBe("abcdefghabcdefgh");
    expect(() => charm.move([1, 2] as unknown as Float64Array)).toThrow("charm.move(array) takes a typed array or DataView, got object");
  });
});
