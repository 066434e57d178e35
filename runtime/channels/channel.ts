/**
 * Channels: point-to-point, in-order streams between two chares (Charm4Py's Channel). Each side
 * makes `new Channel(this, remoteProxy)`; `send` never blocks, `recv` resolves with the next
 * value in order. A chare may open a channel to itself.
 */
import { CharmError } from "../protocol/errors.ts";
import { indexKey } from "../protocol/ids.ts";
import type { ProxyRef } from "../protocol/messages.ts";
import { encodeValue, registerReviver, toWire } from "../protocol/codec.ts";
import { elementBeingPacked } from "../core/migration.ts";
import { recordOf, type Chare, type ElementRecord } from "../core/chare.ts";
import { elementRef, proxyRef } from "../core/proxy.ts";
import type { ElementProxy } from "../core/proxy-types.ts";
import { rt } from "../core/current.ts";
import type { Inbox } from "./inbox.ts";

function endName(ref: { cid: number }, index: readonly number[], port: number): string {
  return `${ref.cid}:${indexKey(index)}:${port}`;
}

/** A channel rebuilt on a migrated chare's new PE (through the constructor: see the reviver). */
interface Revived {
  local: ElementRecord;
  remote: ProxyRef;
}
const REVIVE: unique symbol = Symbol("revive a channel");

/** An in-order channel between this chare and one remote element. */
export class Channel<T = unknown> {
  private readonly local: ElementRecord;
  private readonly remote: ProxyRef;
  private readonly myName: string;
  private readonly inbox: Inbox;

  constructor(chare: Chare, remote: ElementProxy<any>, readonly port = 0) {
    if ((chare as unknown) === REVIVE) {
      const revived = remote as unknown as Revived;
      this.local = revived.local;
      this.remote = revived.remote;
      this.myName = endName(revived.local.ref, revived.local.index, port);
      this.inbox = rt().channels.inbox(revived.local, endName(revived.remote, revived.remote.idx!, port));
      this.inbox.remote = revived.remote;
      return;
    }
    const local = chare ? recordOf(chare) : undefined;
    if (!local) throw new CharmError("new Channel(this, remoteProxy): the first argument must be the chare that owns the channel (this)");
    const ref = proxyRef(remote);
    if (!ref?.idx && ref?.kind !== "single") throw new CharmError(`new Channel(this, remote): remote must be an element proxy (proxy.at(i) or a singleton), got ${ref ? "a collection proxy" : typeof remote}`);
    this.local = local;
    this.remote = ref.idx ? ref : elementRef(ref, [0]);
    this.myName = endName(local.ref, local.index, port);
    this.inbox = rt().channels.inbox(local, endName(this.remote, this.remote.idx!, port));
    this.inbox.remote = this.remote;
  }

  /** Sends a value to the other end (copied; never blocks). */
  send(value: T): void {
    const runtime = rt();
    const enc = encodeValue(value, "the value sent on a channel");
    runtime.sendToElement(this.remote, this.remote.idx!, { t: "chan", to: this.remote, from: this.myName, seq: this.inbox.sendSeq++, v: enc.v, r: enc.r }, enc.transfer);
  }

  /** The next value from the other end, in the order it was sent. */
  recv(): Promise<T> {
    return rt().channels.receive(this.inbox) as Promise<T>;
  }

  /** Travels only inside its own chare's state when the chare migrates (see migration.ts). */
  [toWire](): { $charm: "channel"; cid: number; idx: readonly number[]; remote: ProxyRef; port: number } {
    if (elementBeingPacked() !== this.local) {
      throw new CharmError("a Channel can't be sent: each side makes its own with new Channel(this, remoteProxy)");
    }
    return { $charm: "channel", cid: this.local.ref.cid, idx: this.local.index, remote: this.remote, port: this.port };
  }

  /** Resolves when a value is ready to receive (without taking it); used by charm.iwait. */
  whenReady(): Promise<void> {
    if (this.inbox.ready.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.inbox.watchers.push(resolve));
  }
}

// A channel in a migrated chare's state: rebuilt on the new PE around the same inbox, which moved too.
registerReviver("channel", (d: { cid: number; idx: number[]; remote: ProxyRef; port: number }) => {
  const local = rt().runner.collection(d.cid as any).elements.get(indexKey(d.idx));
  if (!local) throw new CharmError("a channel arrived without its chare");
  // Through the constructor, so it has the hidden class of every other Channel (Object.create
  // gave another, and send/recv in hot loops went polymorphic on PEs where chares had moved).
  const revived: Revived = { local, remote: d.remote };
  return new Channel(REVIVE as unknown as Chare, revived as unknown as ElementProxy<any>, d.port);
});
