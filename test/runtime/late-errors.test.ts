// An error on a PE after its entry method returned (a throwing timer, a promise nobody awaits)
// is reported like an unobserved error, and the PE lives on with its chares (issue 16, item 3).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, RemoteError } from "../../runtime/index.ts";
import { Thrower } from "./fixtures/thrown.ts";
import { TRANSPORTS, over } from "./transports.ts";
import { within } from "./within.ts";

const fixtures = new URL("./fixtures/thrown.ts", import.meta.url).href;

const TIMER = "uncaught outside any entry method (a timer or callback)";
const UNAWAITED = "a promise nobody awaited rejected";

describe.each(TRANSPORTS)("an error after the entry method returned (%s)", (transport) => {
  beforeAll(() => charm.start({ numPes: 3, modules: [fixtures], ...over(transport) }));
  afterAll(() => charm.shutdown());

  it("is reported with its PE and what was thrown; the PE and its chares carry on", async () => {
    const arr = charm.array(Thrower, 3); // one element per PE
    // Every report, in order; `next` is told of the following one.
    const errors: RemoteError[] = [];
    let next: ((e: RemoteError) => void) | undefined;
    charm.onError((e) => { errors.push(e); next?.(e); });
    try {
      let bumps = 0;
      for (const [value, text] of [[new TypeError("from a timer"), "TypeError: from a timer"], [null, "Error: threw null"], [42, "Error: threw 42"], ["text", 'Error: threw "text"']] as const) {
        for (const [method, how] of [["throwInTimer", TIMER], ["rejectUnawaited", UNAWAITED]] as const) {
          const reported = new Promise<RemoteError>((resolve) => (next = resolve));
          arr.at(2)[method](value);
          const err = await within(reported, 10_000, `the report of Thrower[2].${method}(${text})`);
          const [name, message] = [text.slice(0, text.indexOf(":")), text.slice(text.indexOf(":") + 2)];
          expect(err).toMatchObject({ pe: 2, remoteName: name, remoteMessage: `${how}: ${message}` });
          expect(err.message).toBe(`${name}: ${how}: ${message} (raised on PE 2)`);
          // Its chare is still there, with its state: the PE did not die.
          expect(await within(arr.at(2).bump.ret(), 10_000, "Thrower[2].bump after the error")).toBe(++bumps);
        }
      }
      // Nothing else was reported (no PE died), and the status knows no dead PE.
      expect((await within(charm.status(), 10_000, "charm.status()")).dead.size).toBe(0);
      expect(errors).toHaveLength(8);
    } finally {
      charm.onError(undefined);
    }
  });

  it("an Error's report carries its stack from the PE", async () => {
    const arr = charm.array(Thrower, 3);
    const reported = new Promise<RemoteError>((resolve) => charm.onError(resolve));
    try {
      arr.at(1).throwInTimer(new RangeError("with a stack"));
      const err = await within(reported, 10_000, "the report of Thrower[1].throwInTimer");
      expect(err.pe).toBe(1);
      expect(err.stack).toContain("--- remote stack (PE 1) ---\nRangeError: with a stack\n    at ");
    } finally {
      charm.onError(undefined);
    }
    expect(await arr.bump.ret()).toEqual([1, 1, 1]);
  });
});
