// What restore refuses, with an error that says why and names the file or class, always before
// the runtime holds any of it: a truncated, corrupt or foreign file, another format version, a
// missing manifest, a class the runtime doesn't define, a class whose fields changed. And what a
// checkpoint refuses (an element suspended at an await), leaving the previous checkpoint whole.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { charm } from "../../runtime/index.ts";
import { Bag, Keeper, Vault } from "./fixtures/checkpoint.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/checkpoint.ts", import.meta.url).href;
const changed = new URL("./fixtures/checkpoint-changed.ts", import.meta.url).href;
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 20_000, what, runtimeState);
const root = mkdtempSync(join(tmpdir(), "charm4ts-ckpt-errors-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".bin")).sort();
}

/** A copy of checkpoint `from` in a fresh directory, to damage. */
function clone(from: string, name: string): string {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const f of readdirSync(from)) copyFileSync(join(from, f), join(dir, f));
  return dir;
}

/** The number of chares on every PE (a failed restore must leave it as it was). */
async function chares(): Promise<number> {
  return (await waitFor(charm.status(), "charm.status()")).chares;
}

/** Starts `numPes` PEs; checkpoints `keepers` Keepers to `first`, then (the Keepers destroyed) `bags` Bags to `second`. */
async function twoCheckpoints(numPes: number, keepers: number, first: string, bags: number, second: string): Promise<void> {
  await charm.start({ numPes, modules: [fixtures] });
  const k = charm.array(Keeper, keepers, { args: [1] });
  await waitFor(k.fill.awaitable(), "Keeper.fill");
  await waitFor(charm.checkpoint(first, { keepers: k }), "a checkpoint of Keepers");
  await charm.destroy(k);
  const b = charm.array(Bag, bags, { args: [{ x: 1 }] });
  await waitFor(charm.checkpoint(second, { bags: b }), "a checkpoint of Bags");
}

describe("restore refuses damaged or foreign checkpoints, and installs nothing", () => {
  const good = join(root, "good");
  const other = join(root, "other");
  beforeAll(() => twoCheckpoints(2, 6, good, 4, other));
  afterAll(() => charm.shutdown());

  it("a truncated file is named", async () => {
    const dir = clone(good, "truncated");
    const f = files(dir)[1]!;
    truncateSync(join(dir, f), readFileSync(join(dir, f)).length - 10);
    const before = await chares();
    await expect(charm.restore(dir)).rejects.toThrow(new RegExp(`${f}.* is truncated`));
    expect(await chares()).toBe(before);
  });

  it("a corrupt file is named", async () => {
    const dir = clone(good, "corrupt");
    const f = files(dir)[0]!;
    const bytes = readFileSync(join(dir, f));
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(join(dir, f), bytes);
    const before = await chares();
    await expect(charm.restore(dir)).rejects.toThrow(new RegExp(`${f} is corrupt`));
    expect(await chares()).toBe(before);
  });

  it("a file of another checkpoint in its place is found", async () => {
    const dir = clone(good, "foreign");
    copyFileSync(join(other, files(other)[0]!), join(dir, files(dir)[0]!));
    await expect(charm.restore(dir)).rejects.toThrow(new RegExp(`${files(dir)[0]}.* (truncated|longer than written|corrupt)`));
  });

  it("another format version, a foreign manifest, no manifest", async () => {
    const dir = clone(good, "version");
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...manifest, version: 99 }));
    await expect(charm.restore(dir)).rejects.toThrow(/format version 99; this charm4ts reads version 2/);
    // Version 1 (before the plain encoding): refused by its manifest, and by its files' headers.
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...manifest, version: 1 }));
    await expect(charm.restore(dir)).rejects.toThrow(/format version 1; this charm4ts reads version 2/);
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    const file = join(dir, files(dir)[0]!);
    const bytes = readFileSync(file);
    bytes.writeUInt32LE(1, "charm4ts-checkpoint\n".length);
    writeFileSync(file, bytes);
    await expect(charm.restore(dir)).rejects.toThrow(new RegExp(`${files(dir)[0]} has format version 1; this charm4ts reads version 2`));
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ hello: "world" }));
    await expect(charm.restore(dir)).rejects.toThrow(/not a charm4ts checkpoint manifest/);
    rmSync(join(dir, "manifest.json"));
    await expect(charm.restore(dir)).rejects.toThrow(/holds no complete checkpoint: manifest.json is missing/);
  });

  it("a path that is a file, or nothing at all, is said to be so", async () => {
    const file = join(root, "a-file");
    writeFileSync(file, "not a checkpoint");
    await expect(charm.restore(file)).rejects.toThrow(/a-file is a file, not a checkpoint directory/);
    await expect(charm.restore(join(root, "nowhere"))).rejects.toThrow(/there is no checkpoint directory .*nowhere$/);
    const before = await chares();
    await expect(charm.checkpoint(file, {})).rejects.toThrow(/can't make the directory .*a-file: it \(or a folder on its path\) is a file, not a directory/);
    await expect(charm.checkpoint(join(file, "under"), {})).rejects.toThrow(/can't make the directory .*under: it \(or a folder on its path\) is a file/);
    await expect(charm.checkpoint("/proc/charm4ts-checkpoint", {})).rejects.toThrow(/is in a kernel file system/); // Node's own mkdir would loop there for good
    expect(await chares()).toBe(before);
  });

  it("after all that, the good checkpoint restores", async () => {
    const r = await waitFor(charm.restore<{ keepers: typeof Keeper.prototype.thisProxy }>(good), "restoring the good checkpoint");
    const digests = await waitFor(r.keepers.digest.ret(), "restored digests");
    expect(digests.map((d) => d.name)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `keeper-${i}`));
  });

  it("a checkpoint refuses an element suspended at an await; the previous checkpoint stays whole", async () => {
    const dir = clone(good, "refused");
    const before = readdirSync(dir).sort();
    const bag = charm.chare(Bag, [1]);
    bag.hang();
    await expect(charm.checkpoint(dir, { bag })).rejects.toThrow(/Bag\(on PE \d\) on PE \d is suspended in an async entry method/);
    expect(readdirSync(dir).sort()).toEqual(before);
    bag.release();
    await waitFor(charm.waitQD(), "quiescence after the hang ends");
    const r = await waitFor(charm.restore<{ keepers: typeof Keeper.prototype.thisProxy }>(dir), "restoring the checkpoint kept");
    expect((await waitFor(r.keepers.at(5).digest.ret(), "Keeper[5]")).name).toBe("keeper-5");
  });

  it("a checkpoint refuses an element with #private members, naming them; nothing is written", async () => {
    const dir = clone(good, "private");
    const before = readdirSync(dir).sort();
    const vault = charm.array(Vault, 2);
    expect(await waitFor(vault.at(1).open.ret(), "Vault[1].open")).toBe(42);
    await expect(charm.checkpoint(dir, { vault })).rejects.toThrow(/Vault\[\d\] can't be saved: class Vault has #private members \(#secret\)/);
    expect(readdirSync(dir).sort()).toEqual(before);
    await waitFor(charm.destroy(vault), "charm.destroy(vault)");
  });
});

describe("restore refuses classes the runtime doesn't define, or whose fields changed", () => {
  const keepers = join(root, "keepers");
  const bags = join(root, "bags");
  beforeAll(async () => {
    await twoCheckpoints(3, 4, keepers, 3, bags);
    await charm.shutdown();
    await charm.start({ numPes: 2, modules: [changed] });
  });
  afterAll(() => charm.shutdown());

  it("names the class that isn't defined", async () => {
    await expect(charm.restore(keepers)).rejects.toThrow(/holds Keeper chares, but class Keeper is not defined on PE \d/);
    expect(await chares()).toBe(0);
  });

  it("names the fields that changed", async () => {
    await expect(charm.restore(bags)).rejects.toThrow(/class Bag's fields changed since the checkpoint .*: it now declares extra, which the checkpoint doesn't hold/);
    expect(await chares()).toBe(0);
  });
});
