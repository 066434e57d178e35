// Whatever an entry method throws fails its call: `throw null` or `throw undefined` must not pass
// for a return value, and the RemoteError says what was thrown (issue 16, item 3).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, RemoteError } from "../../runtime/index.ts";
import { Thrower } from "./fixtures/thrown.ts";
import { TRANSPORTS, over } from "./transports.ts";
import { within } from "./within.ts";

const fixtures = new URL("./fixtures/thrown.ts", import.meta.url).href;

/** Each value thrown, and how the RemoteError describes it. */
const THROWN: Array<[unknown, string]> = [[null, "threw null"], [undefined, "threw undefined"], [0, "threw 0"], [42, "threw 42"], ["text", 'threw "text"'], ["", 'threw ""'],
  // An object said "threw [object Object]": its contents are what the user needs.
  [{ code: 42, why: "bad" }, "threw { code: 42, why: 'bad' }"], [[1, [2]], "threw [ 1, [ 2 ] ]"]];

async function rejection(p: PromiseLike<unknown>, what: string): Promise<RemoteError> {
  const outcome = await within(Promise.resolve(p).then((value) => ({ value }), (error: unknown) => ({ error })), 10_000, what);
  if (!("error" in outcome)) throw new Error(`${what} resolved with ${String(outcome.value)} instead of rejecting`);
  expect(outcome.error).toBeInstanceOf(RemoteError);
  return outcome.error as RemoteError;
}

describe.each(TRANSPORTS)("a thrown value that isn't an Error (%s)", (transport) => {
  beforeAll(() => charm.start({ numPes: 3, modules: [fixtures], ...over(transport) }));
  afterAll(() => charm.shutdown());

  it("rejects ret and awaitable of a sync or async entry method, saying what was thrown, with PE, chare and method", async () => {
    const arr = charm.array(Thrower, 3); // one element per PE
    for (const [value, text] of THROWN) {
      for (const method of ["throwValue", "throwValueLater"] as const) {
        for (const how of ["ret", "awaitable"] as const) {
          const err = await rejection(arr.at(2)[method][how](value), `Thrower[2].${method}.${how}(${text})`);
          expect(err).toMatchObject({ pe: 2, chare: "Thrower[2]", method, remoteName: "Error", remoteMessage: text });
          expect(err.message).toBe(`Error: ${text} (raised on PE 2 in Thrower[2].${method})`);
        }
      }
    }
    expect(await arr.bump.ret()).toEqual([1, 1, 1]);
  });

  it("rejects a broadcast's ret and awaitable", async () => {
    const arr = charm.array(Thrower, 3);
    for (const [value, text] of THROWN) {
      for (const how of ["ret", "awaitable"] as const) {
        const err = await rejection(arr.throwAt[how](1, value), `a broadcast's ${how} where Thrower[1] throws ${text}`);
        expect(err).toMatchObject({ pe: 1, chare: "Thrower[1]", method: "throwAt", remoteMessage: text });
      }
    }
    expect(await arr.throwAt.ret(-1, null)).toEqual([0, 1, 2]);
  });

  it("is reported when nobody awaits the call", async () => {
    const arr = charm.array(Thrower, 3);
    try {
      for (const [value, text] of THROWN) {
        const reported = new Promise<RemoteError>((resolve) => charm.onError(resolve));
        arr.at(1).throwValue(value);
        expect(await within(reported, 10_000, `the report of Thrower[1] throwing ${text}`)).toMatchObject({ pe: 1, chare: "Thrower[1]", method: "throwValue", remoteMessage: text });
      }
    } finally {
      charm.onError(undefined);
    }
  });
});
