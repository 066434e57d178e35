/** Timers on the runtime's clock: a callback of any kind, called after a delay, counted for quiescence. */
import { CharmError } from "../protocol/errors.ts";
import { Future } from "./future.ts";
import { boundTarget } from "./proxy.ts";
import { callTarget } from "../collectives/targets.ts";
import { maybeRt } from "./current.ts";

// Captured before user code runs: a cell that replaces setTimeout can't break scheduled calls.
const safeSetTimeout = setTimeout;

/**
 * Calls `callback` with `args` after `seconds` (Charm4Py's scheduleCallableAfter): a Future gets
 * the first argument, a bound entry method (`proxy.method`) is called with them, a function
 * runs here. Pending calls count as messages in flight, so quiescence waits for them.
 */
export function scheduleCallableAfter(callback: Future<any> | ((...args: any[]) => unknown), seconds: number, ...args: unknown[]): void {
  if (!(seconds >= 0)) throw new CharmError(`scheduleCallableAfter(callback, seconds): seconds must be a number ≥ 0, got ${seconds}`);
  const target = callback instanceof Future ? { k: "future" as const, fid: callback.id } : boundTarget(callback);
  if (!target && typeof callback !== "function") throw new CharmError("scheduleCallableAfter: the callback must be a Future, a bound entry method (proxy.method) or a function");
  const done = maybeRt()?.scheduler.traffic.pending();
  safeSetTimeout(() => {
    done?.();
    if (target) callTarget(target, args);
    else (callback as (...a: unknown[]) => unknown)(...args);
  }, seconds * 1000);
}
