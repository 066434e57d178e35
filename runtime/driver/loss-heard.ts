/**
 * Whether the program heard of lost PEs on the live PEs: each was told of the loss (peDead) and
 * rejected its own futures that waited on them; the driver then asks each, on the same ordered
 * channel, how many it rejected (heardOf). One answer above zero settles it. A PE lost before it
 * answers didn't hear; one that never answers (a PE thread in an endless loop: nothing watches
 * threads for that) is given up on after a while, so the news is never held back for good.
 */
import { clearTimeout, setTimeout } from "node:timers"; // not the globals: a cell may have replaced those
import { PeLostError } from "../protocol/errors.ts";
import type { Endpoint } from "../protocol/ids.ts";
import { newFutureState } from "../core/future.ts";
import type { Runtime } from "../core/runtime.ts";

// How long the driver waits for a PE's answer when nothing finds that PE lost meanwhile (PE
// processes that stop answering are, by the heartbeat, in about 2 s).
export const ANSWER_WAIT_MS = 5_000;

/**
 * What the live PEs said: some future there was rejected (heard); none was, with the PEs that
 * didn't answer in time; or the runtime was shut down before they said.
 */
export type PesHeard = { k: "heard" } | { k: "unheard"; silent: Endpoint[] } | { k: "stopped" };

/** Asks every live PE whether the losses of `pes` rejected any of its futures; see the module comment. */
export function heardOnPes(runtime: Runtime, pes: Endpoint[]): Promise<PesHeard> {
  const live = Array.from({ length: runtime.numPes }, (_, pe) => pe).filter((pe) => !runtime.failures.dead.has(pe));
  if (live.length === 0) return Promise.resolve({ k: "unheard", silent: [] });
  return new Promise((resolve) => {
    const waiting = new Set(live);
    const decide = (verdict: PesHeard): void => {
      clearTimeout(timer);
      resolve(verdict); // the first verdict counts; answers after it change nothing
    };
    const answered = (pe: Endpoint, rejected: number): void => {
      waiting.delete(pe);
      if (rejected > 0) decide({ k: "heard" });
      else if (waiting.size === 0) decide({ k: "unheard", silent: [] });
    };
    const timer = setTimeout(() => decide({ k: "unheard", silent: [...waiting] }), ANSWER_WAIT_MS);
    timer.unref();
    for (const pe of live) {
      // Homed in `runtime` itself, not the current one: a recovery may replace that meanwhile.
      const fid = runtime.newFutureId();
      const state = newFutureState(1);
      state.label = `whether PE ${pe} heard of the loss of PE ${pes.join(", ")}`;
      state.on = pe; // its death rejects the question: it didn't hear
      state.internal = true; // the runtime's own question: its rejection is no news to the program
      runtime.futures.set(fid, state);
      runtime.send(pe, { t: "heardOf", pes, fid });
      state.promise.then(
        (n) => answered(pe, n as number),
        // Lost before answering (or rolled back by automatic recovery): it didn't hear. Any other
        // rejection is the runtime's shutdown: nobody is left to tell.
        (err: unknown) => (err instanceof PeLostError ? answered(pe, 0) : decide({ k: "stopped" })),
      );
    }
  });
}
