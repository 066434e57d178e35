/** Callback targets (a future, or a bound entry method: element, broadcast or section multicast): made from what a program passes, and called with arguments. */
import type { TargetRef } from "../protocol/messages.ts";
import { callEntry } from "../core/invoke.ts";
import { Future, sendToFuture } from "../core/future.ts";
import { boundTarget } from "../core/proxy.ts";
import { CharmError } from "../protocol/errors.ts";
import { multicast } from "../sections/multicast.ts";

/** Invokes a target: a future receives the first argument; a method is called with all of them. */
export function callTarget(target: TargetRef, args: unknown[]): void {
  if (target.k === "future") sendToFuture(target.fid, args[0]);
  else if (target.k === "section") multicast(target.sec, target.m, args, undefined);
  else callEntry(target.proxy, target.m, args, undefined);
}

/** The target a reduction's result goes to, from what `who` passed: a Future or a bound entry method. */
export function resolveTarget(target: unknown, who: string): TargetRef {
  if (target instanceof Future) return { k: "future", fid: target.id };
  const bound = boundTarget(target);
  if (bound) return bound;
  throw new CharmError(`${who}: a reduction target must be a Future or a bound entry method (this.thisProxy.method, proxy.at(0).method), got ${typeof target}`);
}
