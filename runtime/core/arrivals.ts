/**
 * Elements on their way to this PE, and the messages that got here before them.
 *
 * A balancing plan reaches every endpoint at about the same time, and each records the new
 * location of every element the plan moves. A third PE that resumes first may then message an
 * element at its destination before the element itself has arrived there (it is still leaving
 * its old PE, or in flight). Those messages are held here, per element, and handed back in
 * arrival order when it arrives — or, if it stayed (its move failed), forwarded to where it is;
 * or, if the PE it was leaving died, failed with that PE's loss.
 */
import type { CollectionId, Endpoint } from "../protocol/ids.ts";
import type { Message } from "../protocol/messages.ts";

interface Inbound {
  /** The PE the element is leaving. */
  readonly from: Endpoint;
  /** Messages for it that arrived first, in arrival order. */
  readonly held: Message[];
}

/** An element that never came: the PE it was leaving died first. */
export interface LostMove {
  readonly from: Endpoint;
  readonly why: string;
}

/** Per collection, the elements this PE expects, by index key. */
export class Arrivals {
  private readonly inbound = new Map<CollectionId, Map<string, Inbound>>();
  // Elements lost on their way here: later calls to them are told so, not "does not exist".
  private readonly lost = new Map<CollectionId, Map<string, LostMove>>();

  /** A plan moves element `key` of `cid` here from `from`. */
  expect(cid: CollectionId, key: string, from: Endpoint): void {
    let byKey = this.inbound.get(cid);
    if (!byKey) this.inbound.set(cid, (byKey = new Map()));
    if (!byKey.has(key)) byKey.set(key, { from, held: [] });
  }

  /** Holds `msg` for an element that is on its way here; false when none is expected. */
  hold(cid: CollectionId, key: string, msg: Message): boolean {
    const inbound = this.inbound.get(cid)?.get(key);
    if (!inbound) return false;
    inbound.held.push(msg);
    return true;
  }

  /** The element arrived (or won't come): the messages held for it, now to deliver or forward. */
  take(cid: CollectionId, key: string): Message[] {
    const byKey = this.inbound.get(cid);
    const inbound = byKey?.get(key);
    if (!inbound) return [];
    byKey!.delete(key);
    if (byKey!.size === 0) this.inbound.delete(cid);
    return inbound.held;
  }

  /** The collection was destroyed: nothing is expected for it any more. */
  forget(cid: CollectionId): void {
    this.inbound.delete(cid);
    this.lost.delete(cid);
  }

  /**
   * PE `pe` died (`why`): the elements it was sending here are lost with it, and remembered as
   * such (lostMove); returns the messages held for them.
   */
  takeFrom(pe: Endpoint, why: string): Message[] {
    const held: Message[] = [];
    for (const [cid, byKey] of [...this.inbound]) {
      for (const [key, inbound] of [...byKey]) {
        if (inbound.from !== pe) continue;
        held.push(...this.take(cid, key));
        let lostHere = this.lost.get(cid);
        if (!lostHere) this.lost.set(cid, (lostHere = new Map()));
        lostHere.set(key, { from: pe, why });
      }
    }
    return held;
  }

  /** Whether element `key` of `cid` was lost on its way here, and with which PE. */
  lostMove(cid: CollectionId, key: string): LostMove | undefined {
    return this.lost.get(cid)?.get(key);
  }

  /** How many messages are held, per collection (for reports of what a PE is waiting for). */
  heldCounts(): Map<CollectionId, number> {
    const counts = new Map<CollectionId, number>();
    for (const [cid, byKey] of this.inbound) {
      let n = 0;
      for (const inbound of byKey.values()) n += inbound.held.length;
      counts.set(cid, n);
    }
    return counts;
  }
}
