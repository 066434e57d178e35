// A contribution that can't be sent at all (a function, an instance of an unregistered class)
// fails the contributing entry method; the reduction's target must hear of it too. It used to
// wait forever for the contribution that never came.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, Future, RemoteError } from "../../runtime/index.ts";
import { Sender } from "./fixtures/bad-values.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/bad-values.ts", import.meta.url).href;

describe("a contribution that can't be sent", () => {
  beforeAll(() => charm.start({ numPes: 3, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it.each(["function", "unregistered class"])("(%s) rejects the reduction's future with the reason", async (kind) => {
    charm.onError(() => undefined);
    try {
      const senders = charm.array(Sender, 3);
      const f = new Future<unknown>();
      senders.contributeUnsendable(kind, f);
      const got = await bounded(Promise.resolve(f).then((v) => ({ resolved: v }), (e: unknown) => e), 10_000, "the reduction's outcome", runtimeState);
      expect(got).toBeInstanceOf(RemoteError);
      expect(String((got as Error).message)).toMatch(kind === "function" ? /Sender\[1\]'s contribution is a function/ : /Sender\[1\]'s contribution is an instance of Unregistered/);
    } finally {
      charm.onError(undefined);
    }
  });
});
