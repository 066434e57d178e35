/** Calling a callback target (a bound entry method: element, broadcast or section multicast) with arguments. */
import type { TargetRef } from "../protocol/messages.ts";
import { callEntry } from "../core/invoke.ts";
import { sendToFuture } from "../core/future.ts";
import { multicast } from "../sections/multicast.ts";

/** Invokes a target: a future receives the first argument; a method is called with all of them. */
export function callTarget(target: TargetRef, args: unknown[]): void {
  if (target.k === "future") sendToFuture(target.fid, args[0]);
  else if (target.k === "section") multicast(target.sec, target.m, args, undefined);
  else callEntry(target.proxy, target.m, args, undefined);
}
