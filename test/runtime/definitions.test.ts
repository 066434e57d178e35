import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, RemoteError } from "../../runtime/index.ts";
import { clearDefinitions, definitionLog } from "../../runtime/definitions/ship.ts";
import { beforeNextSend } from "../../runtime/embedding.ts";
import { DefinitionEvaluator } from "../../runtime/definitions/evaluate.ts";
import { definitionScope } from "../../runtime/definitions/scope.ts";
import { findChareClass } from "../../runtime/core/registry.ts";
import { rt } from "../../runtime/core/current.ts";
import type { CollectionId } from "../../runtime/protocol/ids.ts";
import { TRANSPORTS, over } from "./transports.ts";

// Definitions are JavaScript as a notebook ships it: declarations, then the trailer that
// registers them. The driver evaluates the same code in REPL mode, as the kernel's cells do.
const driver = new DefinitionEvaluator(definitionScope());
async function defineEverywhere(code: string): Promise<void> {
  await driver.run(code);
  await charm.define(code);
}
const counterClass = () => findChareClass("Counter")!;

const counterV1 = `
class Counter extends Chare {
  count = 0;
  add(n) { this.count += step(n); return this.count; }
}
function step(n) { return n * SCALE; }
var SCALE = 1;
__charm4tsDefine([Counter, step]);`;

const counterV2 = `
class Counter extends Chare {
  count = 0;
  add(n) { this.count += step(n) + 1000; return this.count; }
  peek() { return this.count; }
}
__charm4tsDefine([Counter]);`;

describe.each(TRANSPORTS)("interactive definitions shipped to PEs (%s)", (transport) => {
  beforeAll(async () => {
    clearDefinitions();
    await charm.start({ numPes: 2, modules: [], interactive: true, ...over(transport) });
  });
  afterAll(() => charm.shutdown());

  it("a class defined from code is a chare class on every PE, with its helpers", async () => {
    await defineEverywhere(counterV1);
    const counters = (charm.array as any)(counterClass(), 4);
    expect(await counters.add.ret(2)).toEqual([2, 2, 2, 2]);
  });

  it("redefining the class upgrades live chares: new methods, same state", async () => {
    const counters = (charm.array as any)(counterClass(), 2);
    expect(await counters.at(1).add.ret(5)).toBe(5);
    await defineEverywhere(counterV2);
    expect(await counters.at(1).peek.ret()).toBe(5);
    expect(await counters.at(1).add.ret(1)).toBe(1006);
  });

  it("a name that exists only on the driver fails on the PEs with a clear error", async () => {
    const err = await charm.define("onlyOnDriver.x; __charm4tsDefine([]);").then(() => undefined, (e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.message).toContain("onlyOnDriver is not defined");
  });

  it("a creation that arrives before its class's definition waits for it (notebook mode)", async () => {
    // On a PE the creation may come from another PE and the definition from the driver, on two
    // channels with no order between them. The holding logic is the same on every endpoint, so
    // it is exercised here directly on the driver's own host.
    const host = rt().runner;
    host.interactive = true;
    const cid = 987654 as CollectionId;
    const cls = `Later_${transport.replace(/\W/g, "_")}`; // a class no earlier run of this suite in this process defined
    host.create({ t: "create", ref: { cid, cls, kind: "single", pe: -1 }, a: [7], idx: [0] });
    expect(host.byId.get(cid)?.elements.size ?? 0).toBe(0);
    await driver.run(`
class ${cls} extends Chare { constructor(n) { super(); globalThis.laterMadeWith = n; } }
__charm4tsDefine([${cls}]);`);
    expect((globalThis as any).laterMadeWith).toBe(7);
    expect(host.byId.get(cid)!.elements.size).toBe(1);
  });

  it("what a host arms for the next send goes ahead of that send, once", async () => {
    const counters = (charm.array as any)(counterClass(), 2);
    await charm.awaitCreation(counters);
    let runs = 0;
    const shipped: Array<Promise<unknown>> = [];
    beforeNextSend(() => { runs++; shipped.push(charm.define("SCALE = 3;")); });
    // The call is sent after the armed definition, on the same ordered channels.
    expect(await counters.add.ret(1)).toEqual([1003, 1003]);
    await Promise.all(shipped);
    expect(runs).toBe(1);
    await defineEverywhere("SCALE = 1;");
  });

  it("a script with the key of the log's last one takes its place; one a host armed enters the log first", async () => {
    const before = definitionLog().length;
    await charm.define("SCALE = 4;", { replaces: "SCALE" });
    await charm.define("SCALE = 5;", { replaces: "SCALE" });
    expect(definitionLog().slice(before)).toEqual(["SCALE = 5;"]);
    // A script in between keeps both: it may have read the older value.
    await charm.define("var SCALED = SCALE * 2;");
    await charm.define("SCALE = 1;", { replaces: "SCALE" });
    expect(definitionLog().slice(before)).toEqual(["SCALE = 5;", "var SCALED = SCALE * 2;", "SCALE = 1;"]);
    // The armed script reaches the PEs before the next one: the log has them in that order too.
    beforeNextSend(() => void charm.define("var ARMED = 1;"));
    await charm.define("var AFTER = ARMED;");
    expect(definitionLog().slice(-2)).toEqual(["var ARMED = 1;", "var AFTER = ARMED;"]);
  });

  it("PEs started later replay every definition", async () => {
    await charm.shutdown();
    await charm.start({ numPes: 3, modules: [], ...over(transport) });
    const counters = (charm.array as any)(counterClass(), 3);
    expect(await counters.add.ret(1)).toEqual([1001, 1001, 1001]);
  });
});
