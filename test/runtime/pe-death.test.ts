// A PE that dies after start-up (an exception outside any entry method, process.exit) is
// reported like an unobserved error, with its PE; the other PEs and the driver carry on.
import { afterEach, describe, expect, it } from "vitest";
import { charm, RemoteError } from "../../runtime/index.ts";
import { Dier } from "./fixtures/dying.ts";
import { TRANSPORTS } from "./transports.ts";

const fixtures = new URL("./fixtures/dying.ts", import.meta.url).href;

afterEach(async () => {
  charm.onError(undefined);
  await charm.shutdown();
});

function nextError(): Promise<RemoteError> {
  return new Promise((resolve) => charm.onError(resolve));
}

describe.each(TRANSPORTS)("a PE that dies (%s)", (transport) => {
  it("an exception thrown from a timer on a PE is reported with the PE", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], transport });
    const arr = charm.array(Dier, 2);
    const reported = nextError();
    arr.at(1).throwLater();
    const err = await reported;
    expect(err.pe).toBe(1);
    expect(err.message).toContain("PE 1 died: thrown from a timer on a PE");
    expect(await arr.at(0).ok.ret()).toBe(1);
  });

  it("process.exit in a chare is reported with the PE and its exit code", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], transport });
    const arr = charm.array(Dier, 2);
    const reported = nextError();
    arr.at(1).exitThread(7);
    const err = await reported;
    expect(err.pe).toBe(1);
    expect(err.message).toContain("PE 1 exited with code 7");
    expect(await arr.at(0).ok.ret()).toBe(1);
  });

  it("a normal shutdown reports nothing", async () => {
    await charm.start({ numPes: 2, modules: [fixtures], transport });
    const errors: RemoteError[] = [];
    charm.onError((e) => errors.push(e));
    expect(await charm.array(Dier, 2).ok.ret()).toEqual([1, 1]);
    await charm.shutdown();
    expect(errors).toEqual([]);
  });
});
