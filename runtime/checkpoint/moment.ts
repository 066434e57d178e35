/**
 * The moment a checkpoint is taken at, on the driver: quiescence, with the driver's own messages
 * to chares held back until the save is done (core/scheduler.ts `hold`).
 *
 * The program may go on sending while a checkpoint waits and saves: a loop that steps a
 * simulation from the driver, a widget's handler, another async flow. Two things follow:
 * - The hold starts at once, so such a loop pauses at its next send: the step in flight lands,
 *   the runtime is quiescent, the checkpoint is taken between two steps, and the loop goes on.
 *   (Without it, quiescence would hardly ever come while the loop runs: it sends the next step as
 *   soon as the last one ends.)
 * - Nothing the driver sends reaches a chare in the middle of the save: what is sent meanwhile
 *   goes after it, in order.
 * Quiescence may not come at all while the chares keep themselves busy (a chare sleeping in a
 * loop, a simulation that steps by itself): then, after HOLD_AHEAD_MS, the held messages go (the
 * program may be about to tell those chares to stop), and the checkpoint waits on for quiescence,
 * holding again at the very moment it comes.
 */
import { clearTimeout, setTimeout } from "node:timers"; // not the globals: a cell may have replaced those
import type { Runtime } from "../core/runtime.ts";

/** How long the driver's messages are held while a checkpoint waits for quiescence, before they go and it waits on without holding. */
export const HOLD_AHEAD_MS = 5000;
let holdAhead = HOLD_AHEAD_MS;

/** Tests: a shorter hold ahead of quiescence (undefined: back to HOLD_AHEAD_MS). */
export function setHoldAhead(ms: number | undefined): void {
  holdAhead = ms ?? HOLD_AHEAD_MS;
}

/** Waits for quiescence with the driver's messages to chares held; resolves with the function that lets them go (call it once the save is done). */
export async function quietAndHeld(runtime: Runtime): Promise<() => void> {
  const release = runtime.holdSends();
  if (await quietWithin(runtime, holdAhead)) return release;
  release();
  return new Promise((resolve) => runtime.quiescence.onQuiet({ done: () => resolve(runtime.holdSends()) }));
}

/** Whether the runtime is quiescent, held messages aside, within `ms` (that wait goes on, harmlessly, if not). */
export function quietWithin(runtime: Runtime, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms, false);
    runtime.quiescence.onQuiet({ ignoringHeld: true, done: () => { clearTimeout(timer); resolve(true); } });
  });
}
