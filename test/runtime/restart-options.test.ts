// charm.restart(options) and charm.start(options) check every option before anything is stopped:
// a wrong value (or an unknown name) throws a CharmError naming the option, the running runtime
// keeps running (its chares too), and the options a later charm.restart() reuses are unchanged.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { charm, CharmError, type StartOptions } from "../../runtime/index.ts";
import { Where } from "./fixtures/collections.ts";
import { bounded } from "../bounded.ts";

const modules = [new URL("./fixtures/collections.ts", import.meta.url).href];

/** Options no start accepts, each with what its error must say (always the option's name). */
const WRONG: Array<[string, unknown, RegExp]> = [
  ["numPes -1", { numPes: -1 }, /number of PEs must be an integer from 1 to 8000, got -1 \(set it with .*\{ numPes \}\)/],
  ["numPes as a string", { numPes: "3" }, /number of PEs must be an integer from 1 to 8000, got "3" \(a string\)/],
  ["a misspelt option", { numpes: 3 }, /unknown option numpes \(did you mean numPes\?\); charm\.start and charm\.restart take: numPes, modules, .*checkpoint/],
  ["transport", { transport: "gpu" }, /transport must be "threads", "processes" or "mixed", got "gpu"/],
  ["spinUs", { spinUs: -1 }, /spinUs must be a number of µs/],
  ["peTimeout", { peTimeout: -1 }, /peTimeout must be a number of seconds/],
  ["peMaxHeapMb", { peMaxHeapMb: 8 }, /peMaxHeapMb is 8/],
  ["balancer", { balancer: "nosuch" }, /nosuch.*\{ balancer \}/],
  ["checkpoint", { checkpoint: { everySync: 0 } }, /checkpoint must be \{ everySync: N \}/],
  ["hosts", { hosts: [] }, /hosts must be a non-empty list of host names/],
  ["pesPerProcess on threads", { pesPerProcess: 2 }, /pesPerProcess \(\+ppn\) groups PE processes' PEs/],
  ["pesPerProcess as a string", { transport: "processes", pesPerProcess: "2" }, /pesPerProcess must be a whole number from 1, got "2" \(a string\)/],
  ["localPes outside mixed", { localPes: 1 }, /localPes is for transport "mixed"/],
  ["attach", { attach: "later" }, /attach: "later" isn't known/],
  ["attach on threads", { attach: "by-hand" }, /attach: "by-hand" attaches PE processes/],
  ["modules", { modules: "fixtures.ts" }, /modules must be a list of module paths or URLs, got "fixtures.ts" \(a string\)/],
  ["args", { args: "x" }, /args must be a list of strings, got "x" \(a string\)/],
  ["interactive", { interactive: "yes" }, /interactive must be true or false, got "yes" \(a string\)/],
  ["onOutput", { onOutput: 5 }, /onOutput must be a function/],
  ["bind", { bind: 5 }, /bind must be an interface's address/],
  ["restart", { restart: 5 }, /restart must be a checkpoint directory's path, got 5$/],
  ["restart, a directory that isn't there", { restart: "/nonexistent/charm4ts-checkpoint" }, /restart: there is no checkpoint directory \/nonexistent\/charm4ts-checkpoint/],
];

describe("charm.restart(options) with a wrong option (2 PE threads)", () => {
  beforeAll(() => charm.start({ numPes: 2, modules }));
  afterAll(() => charm.shutdown());

  it.each(WRONG)("%s: refused with a CharmError naming it; the runtime and its chares keep running", async (_what, options, message) => {
    const before = charm.array(Where, 2);
    await bounded(charm.awaitCreation(before), 10_000, "the array made before the restart");
    const refused = await charm.restart(options as StartOptions).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(CharmError);
    expect((refused as Error).message).toMatch(message);
    // Not restarted: the array made before still answers (after a restart its proxy would throw).
    expect(charm.numPes()).toBe(2);
    expect((await bounded(before.where.ret(), 10_000, "the old array's answers")).map((w) => w.pe)).toEqual([0, 1]);
  });

  it("a plain charm.restart() after refused ones starts with the options remembered before them", async () => {
    await expect(charm.restart({ numPes: -1 })).rejects.toThrow(CharmError);
    await expect(charm.restart({ numpes: 3 } as StartOptions)).rejects.toThrow(CharmError);
    await bounded(charm.restart(), 20_000, "charm.restart()");
    expect(charm.numPes()).toBe(2);
    expect((await charm.array(Where, 2).where.ret()).map((w) => w.pe)).toEqual([0, 1]);
  });
});

describe("charm.start(options) with a wrong option", () => {
  afterEach(() => charm.shutdown()); // a start that went through after all (a test failing) ends before the next

  it.each(WRONG)("%s: refused with a CharmError naming it", async (_what, options, message) => {
    const refused = await charm.start({ modules, ...(options as StartOptions) }).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(CharmError);
    expect((refused as Error).message).toMatch(message);
  });

  it("a start refused for a wrong option isn't what a later charm.restart() reuses", async () => {
    await bounded(charm.start({ numPes: 2, modules }), 20_000, "charm.start on 2 PEs");
    await charm.shutdown();
    await expect(charm.start({ numPes: -1, modules })).rejects.toThrow(/got -1/);
    await bounded(charm.restart(), 20_000, "charm.restart() after the refused start");
    expect(charm.numPes()).toBe(2);
  });

  it("options that aren't an object are refused", async () => {
    await expect(charm.start(4 as unknown as StartOptions)).rejects.toThrow(/charm\.start and charm\.restart take an options object like \{ numPes: 4 \}, got 4$/);
    await expect(charm.restart("threads" as unknown as StartOptions)).rejects.toThrow(/got "threads" \(a string\)/);
  });
});
