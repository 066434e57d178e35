/** Per-element channel inboxes: in-order delivery by sequence number, and waiting receivers. */
import type { ElementRecord } from "../core/chare.ts";
import type { ProxyRef } from "../protocol/messages.ts";
import { CharmError, PeLostError } from "../protocol/errors.ts";
import { decode, registerSerializable } from "../protocol/codec.ts";
import type { Endpoint } from "../protocol/ids.ts";

/** A receiver waiting for the next value: a recv() in progress. */
export interface Receiver {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** One direction of one channel, as its receiving element holds it. */
export interface Inbox {
  /** Next sequence number to hand out in order. */
  expected: number;
  /** In-order values not yet received. */
  readonly ready: unknown[];
  /** Values that arrived ahead of their turn, by sequence number. */
  readonly early: Map<number, unknown>;
  /** Receivers waiting for the next value. */
  readonly receivers: Receiver[];
  /** Waiting for "something is ready" without taking it (iwait). */
  readonly watchers: Array<() => void>;
  /** Next sequence number for sending the other way. */
  sendSeq: number;
  /** The element at the other end, once a Channel over this inbox exists (its PE's death fails the receivers). */
  remote?: ProxyRef;
}

/**
 * A value that arrived on a channel but couldn't be rebuilt here (an instance of a class this PE
 * doesn't register): it takes its place in the order, and the recv() that gets it rejects with
 * the reason. Serializable, so it moves with its inbox (a migration, a checkpoint).
 */
export class ChannelFailure {
  constructor(readonly why: string) {}
}
registerSerializable(ChannelFailure, "charm4ts.ChannelFailure");

/** All inboxes of the elements on this PE. */
export class ChannelInboxes {
  private readonly byElement = new WeakMap<ElementRecord, Map<string, Inbox>>();
  // Inboxes with receivers waiting: a PE's death fails those whose other end was there.
  private readonly waiting = new Set<Inbox>();

  /** The inbox of `record` for messages from `from` (made on first use). */
  inbox(record: ElementRecord, from: string): Inbox {
    let boxes = this.byElement.get(record);
    if (!boxes) { boxes = new Map(); this.byElement.set(record, boxes); }
    let box = boxes.get(from);
    if (!box) {
      box = { expected: 0, ready: [], early: new Map(), receivers: [], watchers: [], sendSeq: 0 };
      boxes.set(from, box);
    }
    return box;
  }

  /** Every inbox of `record` (to move them with it). */
  boxesOf(record: ElementRecord): Map<string, Inbox> {
    return this.byElement.get(record) ?? new Map();
  }

  /** Whether `record` has any inbox (a checkpoint writes such an element packed). */
  hasBoxes(record: ElementRecord): boolean {
    return (this.byElement.get(record)?.size ?? 0) > 0;
  }

  /** The next value of `box`, in order: at once if one is ready, else once it arrives. */
  receive(box: Inbox): Promise<unknown> {
    if (box.ready.length > 0) return settled(box.ready.shift());
    return new Promise((resolve, reject) => {
      box.receivers.push({ resolve, reject });
      this.waiting.add(box);
    });
  }

  /**
   * A message arrived encoded (`r`: holding references) for `record` on PE `pe`. A value this PE
   * can't rebuild keeps its place in the channel's order: the recv() that gets it rejects.
   */
  deliverEncoded(record: ElementRecord, from: string, seq: number, v: unknown, r: 1 | undefined, pe: Endpoint): void {
    let value: unknown;
    try {
      value = r ? decode(v) : v;
    } catch (err) {
      value = new ChannelFailure(`a value sent on a channel to ${record.label} can't be rebuilt on PE ${pe}: ${(err as Error).message}`);
    }
    this.deliver(record, from, seq, value);
  }

  /** A message arrived for `record` from channel end `from`. */
  deliver(record: ElementRecord, from: string, seq: number, value: unknown): void {
    const box = this.inbox(record, from);
    if (seq !== box.expected) { box.early.set(seq, value); return; } // ahead of its turn: it waits
    // In order (the usual case): straight through, then whatever arrived early behind it.
    this.handOut(box, value);
    while (box.early.size > 0 && box.early.has(box.expected)) {
      const v = box.early.get(box.expected);
      box.early.delete(box.expected);
      this.handOut(box, v);
    }
    if (box.ready.length > 0 && box.watchers.length > 0) for (const w of box.watchers.splice(0)) w();
  }

  /**
   * PE `pe` died: receivers waiting on a channel whose other end was there (as `locate` says)
   * reject, since what it would have sent never comes. Returns how many did (the program heard of the loss there).
   */
  peLost(pe: Endpoint, why: string, locate: (remote: ProxyRef) => Endpoint): number {
    let rejected = 0;
    for (const box of this.waiting) {
      if (box.remote === undefined || locate(box.remote) !== pe) continue;
      const label = `${box.remote.cls}[${box.remote.idx?.join(",") ?? ""}]`;
      for (const r of box.receivers.splice(0)) {
        r.reject(new PeLostError(pe, why, `a channel's recv() was waiting for a value from ${label}, which was on it.`));
        rejected++;
      }
      this.waiting.delete(box);
    }
    return rejected;
  }

  private handOut(box: Inbox, value: unknown): void {
    box.expected++;
    const receiver = box.receivers.shift();
    if (!receiver) { box.ready.push(value); return; }
    if (box.receivers.length === 0) this.waiting.delete(box);
    if (value instanceof ChannelFailure) receiver.reject(new CharmError(value.why));
    else receiver.resolve(value);
  }
}

function settled(value: unknown): Promise<unknown> {
  return value instanceof ChannelFailure ? Promise.reject(new CharmError(value.why)) : Promise.resolve(value);
}
