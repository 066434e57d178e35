// A collection with no elements when the checkpoint is taken (a sparse array whose elements are
// inserted later in the run) is still part of the program: proxies to it are in chares' state and
// among the named values. The checkpoint skipped it (a PE saves only collections it holds elements
// of), so its proxies kept their old id: after a restore in a new process that id is the next new
// collection's, and calls through them reach an unrelated array; in this process the restored
// proxy is refused as "from before the runtime restarted", and charm.recover() with one among its
// named values rejects after it has restored everything.
import { afterEach, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { charm, type CollectionProxy } from "../../runtime/index.ts";
import { Holder, Item, Unrelated } from "./fixtures/empty-sparse.ts";
import { bounded, runtimeState } from "../bounded.ts";
import { tempDir } from "../temp-dir.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const PROGRAM = "test/runtime/fixtures/program-empty-sparse.ts";
const waitFor = <T>(work: PromiseLike<T>, what: string): Promise<T> => bounded(Promise.resolve(work), 20_000, what, runtimeState);

function charmrun(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["bin/charmrun.mjs", ...argv], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === "number" ? (err as any).code : -1) : 0, stdout, stderr });
    });
  });
}

describe("a sparse array with no elements yet at the checkpoint", () => {
  afterEach(() => charm.shutdown());

  it("+restart in a new process: a chare's proxy to it doesn't reach an unrelated collection made after the restore", async () => {
    const dir = join(tempDir("ckpt-empty"), "ckpt");
    expect((await charmrun("+p2", PROGRAM, "save", dir)).stdout).toContain("saved");
    const resumed = await charmrun("+p2", "+restart", dir, PROGRAM);
    expect(resumed.stdout).toContain("answered by: Item");
  }, 60_000);

  it("charm.restore after a restart: the named proxy works (elements can be inserted and called)", async () => {
    await charm.start({ numPes: 2, modules: [new URL("./fixtures/empty-sparse.ts", import.meta.url).href] });
    const holders = charm.array(Holder, 2);
    const items = charm.sparseArray(Item);
    await waitFor(holders.keep.awaitable(items), "Holder.keep");
    const dir = join(tempDir("ckpt-empty"), "ckpt");
    await waitFor(charm.checkpoint(dir, { holders, items }), "the checkpoint");
    await charm.shutdown();
    await charm.start({ numPes: 2, modules: [new URL("./fixtures/empty-sparse.ts", import.meta.url).href] });
    const r = await waitFor(charm.restore<{ items: CollectionProxy<Item> }>(dir), "the restore");
    charm.insert(r.items, 3, []);
    await waitFor(charm.doneInserting(r.items), "doneInserting");
    expect(await waitFor(r.items.at(3).whoami.ret(), "the inserted element")).toBe("Item");
  }, 60_000);

  it("charm.recover(): resolves with the named values", async () => {
    await charm.start({ numPes: 3, modules: [new URL("./fixtures/empty-sparse.ts", import.meta.url).href] });
    const holders = charm.array(Holder, 3);
    const items = charm.sparseArray(Item);
    await waitFor(holders.keep.awaitable(items), "Holder.keep");
    await waitFor(charm.checkpoint({ inMemory: true }, { holders, items }), "the in-memory checkpoint");
    await waitFor(charm.restartPe(1), "PE 1 restarted");
    const r = await waitFor(charm.recover<{ items: CollectionProxy<Item> }>(), "charm.recover()");
    expect(String(r.items)).toBe("Item(sparse)");
  }, 60_000);

  it("a proxy to a collection destroyed before the checkpoint: after a restore, calls through it are refused as to a destroyed one, not delivered to a new collection", async () => {
    await charm.start({ numPes: 2, modules: [new URL("./fixtures/empty-sparse.ts", import.meta.url).href] });
    const holders = charm.array(Holder, 2);
    const items = charm.array(Item, 2);
    await waitFor(holders.keep.awaitable(items), "Holder.keep");
    await waitFor(charm.destroy(items), "charm.destroy");
    const dir = join(tempDir("ckpt-empty"), "ckpt");
    await waitFor(charm.checkpoint(dir, { holders }), "the checkpoint");
    await charm.shutdown();
    await charm.start({ numPes: 2, modules: [new URL("./fixtures/empty-sparse.ts", import.meta.url).href] });
    const r = await waitFor(charm.restore<{ holders: CollectionProxy<Holder> }>(dir), "the restore");
    const unrelated = [charm.array(Unrelated, 2), charm.array(Unrelated, 2)];
    await waitFor(charm.awaitCreation(...unrelated), "the unrelated arrays");
    const answer = await waitFor(r.holders.at(0).ask.ret().then((who) => `answered by ${who}`, (err: Error) => err.message), "Holder.ask");
    expect(answer).toContain("was destroyed");
  }, 60_000);
});
