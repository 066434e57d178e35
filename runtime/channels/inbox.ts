/** Per-element channel inboxes: in-order delivery by sequence number, and waiting receivers. */
import type { ElementRecord } from "../core/chare.ts";

/** One direction of one channel, as its receiving element holds it. */
export interface Inbox {
  /** Next sequence number to hand out in order. */
  expected: number;
  /** In-order values not yet received. */
  readonly ready: unknown[];
  /** Values that arrived ahead of their turn, by sequence number. */
  readonly early: Map<number, unknown>;
  /** Receivers waiting for the next value. */
  readonly receivers: Array<(v: unknown) => void>;
  /** Waiting for "something is ready" without taking it (iwait). */
  readonly watchers: Array<() => void>;
  /** Next sequence number for sending the other way. */
  sendSeq: number;
}

/** All inboxes of the elements on this PE. */
export class ChannelInboxes {
  private readonly byElement = new WeakMap<ElementRecord, Map<string, Inbox>>();

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

  private handOut(box: Inbox, value: unknown): void {
    box.expected++;
    const receiver = box.receivers.shift();
    if (receiver) receiver(value);
    else box.ready.push(value);
  }
}
