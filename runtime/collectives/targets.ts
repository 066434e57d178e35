/** Calling a callback target (a bound entry method, element or broadcast) with arguments. */
import type { TargetRef } from "../protocol/messages.ts";
import { callEntry } from "../core/invoke.ts";
import { sendToFuture } from "../core/future.ts";

/** Invokes a target: a future receives the first argument; a method is called with all of them. */
export function callTarget(target: TargetRef, args: unknown[]): void {
  if (target.k === "future") sendToFuture(target.fid, args[0]);
  else callEntry(target.proxy, target.m, args, undefined);
}
