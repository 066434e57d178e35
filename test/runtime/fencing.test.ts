// Who a ZmqTransport takes batches from: only the peers it joined with, and none declared dead —
// except what a peer whose process ended by itself sent before (its last words). A raw PUSH
// socket plays the senders; a batch from a live peer sent after the one judged orders the test
// (one connection is FIFO), so nothing waits on a timer.
import { afterEach, describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { ZmqTransport } from "../../runtime/transport/zmq-transport.ts";
import type { Message } from "../../runtime/protocol/messages.ts";
import type { Endpoint, FutureId } from "../../runtime/protocol/ids.ts";
import { forgedBatch } from "./attacker.ts";

const open: Array<ZmqTransport | zmq.Push> = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

const note = (v: string): Message => ({ t: "resolve", fid: 1 as FutureId, v });

/** Endpoint 0 with peers 1 and 2, what it delivers (with the sender), and a raw socket to send it batches as anyone. */
async function receiver(): Promise<{ t: ZmqTransport; got: Array<[Endpoint | undefined, unknown]>; next: () => Promise<void>; send: (sender: Endpoint, v: string) => Promise<void> }> {
  const t = await ZmqTransport.bind();
  const push = new zmq.Push({ linger: 0 });
  open.push(t, push);
  // Peers' addresses are dialled only to grant credit back: a closed port does for this test.
  t.join(0, [[1, "tcp://127.0.0.1:9"], [2, "tcp://127.0.0.1:9"]]);
  push.connect(t.address);
  const got: Array<[Endpoint | undefined, unknown]> = [];
  let wake: (() => void) | undefined;
  t.listen((m, _cause, from) => { got.push([from, (m as { v: unknown }).v]); wake?.(); });
  const next = () => new Promise<void>((resolve) => (wake = resolve));
  return { t, got, next, send: (sender, v) => push.send(forgedBatch(sender, [note(v)])) };
}

describe("ZmqTransport membership", () => {
  it("drops and counts a batch from a sender it didn't join with", async () => {
    const { t, got, next, send } = await receiver();
    const arrived = next();
    await send(7, "from a stranger");
    await send(1, "from PE 1");
    await arrived;
    expect(got).toEqual([[1, "from PE 1"]]);
    expect(t.flowStats().refused).toBe(1);
    expect([...t.refusedBatches()]).toEqual([[7, 1]]);
  });

  it("fences a peer declared dead: what it sends afterwards is dropped and counted", async () => {
    const { t, got, next, send } = await receiver();
    let arrived = next();
    await send(1, "before");
    await arrived;
    t.peerLost(1);
    arrived = next();
    await send(1, "after its death");
    await send(2, "from PE 2");
    await arrived;
    expect(got).toEqual([[1, "before"], [2, "from PE 2"]]);
    expect([...t.refusedBatches()]).toEqual([[1, 1]]);
  });

  it("still takes what a peer whose process ended had sent (its last words), for a moment", async () => {
    const { t, got, next, send } = await receiver();
    t.ended(1);
    t.peerLost(1);
    const arrived = next();
    await send(1, "last words");
    await arrived;
    expect(got).toEqual([[1, "last words"]]);
    expect(t.flowStats().refused).toBe(0);
  });
});
