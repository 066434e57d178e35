// An entry method that returns a thenable that isn't a Promise (a hand-written `then` that calls
// back and returns nothing) must leave its element free: it used to report an internal TypeError
// ("reading 'finally'") and keep the element marked as suspended for good, so it never moved
// and every checkpoint was refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charm, RemoteError } from "../../runtime/index.ts";
import { Sender } from "./fixtures/bad-values.ts";
import { bounded, runtimeState } from "../bounded.ts";

const fixtures = new URL("./fixtures/bad-values.ts", import.meta.url).href;

describe("an entry method returning a thenable that isn't a Promise", () => {
  beforeAll(() => charm.start({ numPes: 3, modules: [fixtures] }));
  afterAll(() => charm.shutdown());

  it("gives its value, reports nothing, and the element can still move", async () => {
    const reported: RemoteError[] = [];
    charm.onError((e) => reported.push(e));
    try {
      const senders = charm.array(Sender, 3);
      expect(await bounded(senders.at(1).lazy.ret(), 10_000, "the thenable's value", runtimeState)).toBe(7);
      await bounded(charm.waitQD(), 10_000, "quiescence", runtimeState);
      expect(reported.map((e) => e.message)).toEqual([]);
      await bounded(senders.at(1).moveTo.awaitable(2), 10_000, "the move request", runtimeState);
      await bounded(charm.waitQD(), 10_000, "quiescence after the move", runtimeState);
      expect(await bounded(senders.at(1).where.ret(), 10_000, "where it is", runtimeState)).toBe(2);
    } finally {
      charm.onError(undefined);
    }
  });
});
