/** The runtime of this thread, once started. Kept apart so every module can reach it without cycles. */
import { CharmError } from "../protocol/errors.ts";
import type { Runtime } from "./runtime.ts";

let current: Runtime | undefined;
let generation = 0;
// Why the last runtime was stopped, when it wasn't asked to be (a script's unhandled error): a
// call after that says so, rather than that nothing was started.
let stoppedBecause: string | undefined;

/** This thread's runtime; throws a CharmError that says why there is none (never started, or stopped after an error). */
export function rt(): Runtime {
  if (current === undefined) {
    if (stoppedBecause !== undefined) {
      throw new CharmError(
        `the runtime was stopped after an unhandled error: ${stoppedBecause} ` +
        "(reported above; with charm.onError(handler) such errors go to the handler instead, and a script carries on)",
      );
    }
    throw new CharmError(
      "the charm4ts runtime hasn't started on this thread: call charm.start(main) first " +
      "(scripts: run them with `npx charmrun +p2 prog.ts`), or await it before using proxies and futures",
    );
  }
  return current;
}

/** This thread's runtime, or undefined before start / after shutdown. */
export function maybeRt(): Runtime | undefined {
  return current;
}

/**
 * Installs (or clears) this thread's runtime. `sameRun`: the new one continues the old one's run
 * with the same ids (automatic recovery), so interned proxies stay valid and stay interned.
 */
export function setRuntime(runtime: Runtime | undefined, sameRun = false): void {
  current = runtime;
  if (runtime !== undefined) stoppedBecause = undefined;
  if (!sameRun) generation++;
}

/** Notes that the runtime is being stopped because of an unhandled error (`why`: its first line), for rt() to say. */
export function noteStoppedBecause(why: string): void {
  stoppedBecause = why;
}

let driverRuns = 0;
// 256 ranges of INCARNATION_IDS fit in an id's counter (2^40); after that they are used again.
const DRIVER_RANGES = 256;

/**
 * The incarnation of the next runtime a driver starts in this process: each one mints its ids
 * from a fresh range, so a proxy kept from an earlier run (a notebook variable after
 * charm.restart) never names a collection of the new one, and can be told apart from them.
 */
export function nextDriverIncarnation(): number {
  return driverRuns++ % DRIVER_RANGES;
}

/** Changes whenever the runtime is replaced: ids from an earlier runtime mean nothing now. */
export function runtimeGeneration(): number {
  return generation;
}
