/**
 * Conditional delivery (Charm4Py's @when): a chare class may declare, per entry method, a
 * predicate over the chare's state and the call's arguments:
 *
 *   static when = { recvGhost: (self: Cell, iteration: number) => self.iteration === iteration };
 *
 * A call whose predicate doesn't hold waits on its element; after every entry method that runs
 * there, the waiting calls are checked again in arrival order (Charm4Py releases them LIFO).
 */
import type { ElementRecord } from "./chare.ts";
import type { ReplyRef } from "../protocol/messages.ts";
import type { SectionId } from "../protocol/ids.ts";

/** A predicate over the chare and the call's arguments. */
export type WhenPredicate = (self: any, ...args: any[]) => boolean;

/** The `when` map of a chare class, if it declares one. */
export function conditionsOf(cls: unknown): Record<string, WhenPredicate> | undefined {
  const when = (cls as { when?: unknown }).when;
  return when !== null && typeof when === "object" ? (when as Record<string, WhenPredicate>) : undefined;
}

/** Where a call came from, so a waiting call can follow its element when it migrates. */
export type CallOrigin =
  | { kind: "invoke"; reply?: ReplyRef }
  | { kind: "bcast"; b: number; reply?: ReplyRef; sec?: SectionId };

/** A call waiting for its condition. */
export interface Waiting {
  readonly method: string;
  readonly args: unknown[];
  readonly run: () => void;
  readonly origin: CallOrigin;
}

/** Calls waiting for their condition, per element. */
export class ConditionalQueue {
  private readonly waiting = new WeakMap<ElementRecord, Waiting[]>();

  /** Whether the call may run now (no condition, or its condition holds). */
  holds(record: ElementRecord, method: string, args: unknown[]): boolean {
    const predicate = conditionsOf(record.chare!.constructor)?.[method];
    return !predicate || predicate(record.chare, ...args);
  }

  /** Keeps a call whose condition doesn't hold; its `run` is called once it does. */
  hold(record: ElementRecord, call: Waiting): void {
    const list = this.waiting.get(record);
    if (list) list.push(call);
    else this.waiting.set(record, [call]);
  }

  /** Whether the call may run now; if not, it is kept and `run` called once its condition holds. */
  admit(record: ElementRecord, method: string, args: unknown[], origin: CallOrigin, run: () => void): boolean {
    if (this.holds(record, method, args)) return true;
    this.hold(record, { method, args, run, origin });
    return false;
  }

  /** How many calls to `record` wait for their condition. */
  count(record: ElementRecord): number {
    return this.waiting.get(record)?.length ?? 0;
  }

  /** Removes and returns the calls waiting on `record` (it is migrating: they go with it). */
  take(record: ElementRecord): Waiting[] {
    const list = this.waiting.get(record) ?? [];
    this.waiting.delete(record);
    return list;
  }

  /** After an entry method ran on `record`: runs the first waiting call whose condition now holds, in arrival order. */
  release(record: ElementRecord): void {
    const list = this.waiting.get(record);
    if (!list || list.length === 0) return;
    const conditions = conditionsOf(record.chare!.constructor);
    for (let i = 0; i < list.length; i++) {
      const w = list[i]!;
      const predicate = conditions?.[w.method];
      if (predicate && !predicate(record.chare, ...w.args)) continue;
      list.splice(i, 1);
      w.run(); // its own completion calls release again, so later calls are checked in turn
      return;
    }
  }
}
