/**
 * Checkpoints at AtSync barriers, and recovery without being asked: `charm.start(main, {
 * checkpoint: { everySync: N } })`. Runs on the driver.
 *
 * Every N-th balancing round of an array, its root PE sends the round's plan to the driver
 * instead of to every PE (lb/balancer.ts): each element has called AtSync and waits for
 * resumeFromSync. The driver waits for what is still in flight to land, takes an in-memory
 * checkpoint there (each PE's part also on its buddy), then sends the plan on (barrier.ts, which
 * also says how several balanced arrays are saved together).
 *
 * When a PE is lost, the driver goes back to the last in-memory checkpoint by itself: it fetches
 * every part (a lost PE's from its buddy), restarts every PE (a replacement for the lost one),
 * restores every element under its old ids, so the proxies the program holds keep working, takes
 * a fresh checkpoint, and calls resumeFromSync() on every element of the arrays the checkpoint
 * caught at their barrier. The driver's futures that were handed to chares stay pending across
 * the recovery if the checkpoint mentions them (an element's `done` future, a reduction's
 * target); so do futures not handed anywhere yet. Calls waiting for a reply reject with
 * PeLostError: what they asked for is rolled back, or was lost.
 */
import { CharmError, PeLostError, errorToData } from "../protocol/errors.ts";
import { DRIVER, type CollectionId, type FutureId } from "../protocol/ids.ts";
import { encodeValue } from "../protocol/codec.ts";
import { maybeRt } from "../core/current.ts";
import { ANY_PE } from "../core/failure.ts";
import type { FutureState } from "../core/future.ts";
import type { Runtime } from "../core/runtime.ts";
import { dropInMemory, everyPe, fetchParts, lastInMemoryCheckpoint, restoreFrom, saveInMemory } from "./driver.ts";
import { holdPlansOf, releaseHeld, stopHolding } from "./barrier.ts";

/** Restarts every PE with the runtime's options; the new driver runtime continues the old one's run, homing the futures `kept`. */
export type RestartContinuing = (kept: Array<[FutureId, FutureState]>, from: Runtime) => Promise<void>;

interface Armed {
  every: number;
  restart: RestartContinuing;
}

let armed: Armed | undefined;
// A recovery is under way: a PE lost meanwhile (of the old runtime or the new) doesn't start
// another. Not part of Armed: the recovery's restart arms the new runtime while it runs.
let recovering = false;
// A PE was lost while a recovery ran: once it is over, the runtime it left is looked at again.
let missed = false;

const REMEDY = "the runtime goes back to its last checkpoint at an AtSync barrier by itself (checkpoint: { everySync }); futures handed to the chares it restores keep waiting.";
const GIVE_UP = "charm.restart() starts the runtime again.";

/** Arms barrier checkpoints and automatic recovery on a runtime just started (also the one a recovery starts). */
export function armAutoRecovery(runtime: Runtime, every: number, restart: RestartContinuing): void {
  armed = { every, restart };
  holdPlansOf(runtime, every);
  runtime.failures.holdHanded = true;
  runtime.failures.onLost = (pe, why) => {
    if (!armed) return;
    if (recovering) { missed = true; return; }
    recovering = true;
    void recoverByItself(runtime, pe, why).finally(afterRecovery);
  };
  // Only the arrays' root PEs use it; every PE is told (any may be a singleton's root).
  for (let pe = 0; pe < runtime.numPes; pe++) runtime.send(pe, { t: "ckpt", step: "every", v: every });
  PeLostError.remedy = REMEDY;
}

/**
 * A recovery ended. A PE lost during its last steps (after the restore) is recovered from the
 * fresh checkpoint, if that was taken; else nothing can be.
 */
function afterRecovery(): void {
  recovering = false;
  const now = maybeRt();
  if (!missed || !armed || !now || !now.failures.holdHanded || now.failures.dead.size === 0) return;
  missed = false;
  const [pe, why] = [...now.failures.dead][0]!;
  now.failures.onLost?.(pe, why);
}

/** The runtime was shut down (not for a recovery): nothing is armed any more. */
export function disarmAutoRecovery(): void {
  armed = undefined;
  recovering = missed = false;
  stopHolding();
}

/** Whether automatic recovery is armed (a PE's death is then no reason to end a script). */
export function autoRecoveryArmed(): boolean {
  return armed !== undefined;
}

/** Whether a pending future of the driver carries over a recovery: handed to chares, or not handed anywhere yet. */
function carriesOver(state: FutureState): boolean {
  return state.status === "pending" && (state.on === undefined || (state.on === ANY_PE && state.label === undefined));
}

const handed = (state: FutureState): boolean => state.on === ANY_PE;

/** Recovers from the last in-memory checkpoint after PE `pe` was lost; see the module comment. */
async function recoverByItself(old: Runtime, pe: number, why: string): Promise<void> {
  const what = "automatic recovery";
  const last = lastInMemoryCheckpoint();
  if (!last) {
    giveUp(old, pe, why, `Automatic recovery can't go back: it was lost before the first checkpoint at an AtSync barrier (checkpoint: { everySync: ${armed?.every} }) was taken, or before a recovery took its fresh one.`);
    return;
  }
  let parts: Uint8Array[];
  try {
    parts = await fetchParts(old, last.manifest, what);
  } catch (err) {
    giveUp(old, pe, why, `Automatic recovery can't go back: ${(err as Error).message.replace(/^automatic recovery: /, "")}.`);
    return;
  }
  // Calls waiting for a reply reject: what they asked for is rolled back (or was lost). The rest carry over.
  const kept: Array<[FutureId, FutureState]> = [];
  for (const [fid, state] of [...old.futures]) {
    if (carriesOver(state)) { kept.push([fid, state]); continue; }
    old.failures.noteRejectedByLoss(fid); // a value still on its way for it is expected, not an error
    state.reject(new PeLostError(pe, why, `${state.label ?? "this call"} was waiting for a reply; automatic recovery rolls its chare back to the last checkpoint, so it may or may not have run.`, "call again."));
  }
  old.futures.clear();
  const same = new Set<number>(kept.map(([fid]) => fid));
  // A PE lost while restarting or restoring: the parts are still here, so that is tried once more.
  for (let attempt = 1; ; attempt++) {
    let fresh: Runtime | undefined;
    try {
      // Disarmed meanwhile (the program ended, or shut the runtime down): nothing to go back to.
      if (!armed) throw new CharmError("the runtime was shut down during recovery");
      await armed.restart(kept, old);
      fresh = maybeRt();
      if (!fresh) throw new CharmError("the runtime was shut down during recovery");
      const { mentioned } = await restoreFrom(fresh, last.manifest, { dir: "", data: parts }, what, same);
      for (const [fid, state] of kept) {
        if (!handed(state) || mentioned.has(fid) || fresh.futures.get(fid) !== state) continue;
        fresh.futures.delete(fid);
        state.reject(new PeLostError(pe, why, "this future was handed to chares after the last checkpoint, which the recovery went back to.", "send it to the restored chares again."));
      }
      break;
    } catch (err) {
      // Once more, also when the restart itself failed (a replacement PE lost before it was ready:
      // no runtime is left then, and the next restart continues `old`'s run).
      if (attempt < 2 && armed) continue;
      const now = maybeRt() ?? old;
      // A step's error names the step; the cause is the PE that died meanwhile, if one did.
      const died = fresh ? [...fresh.failures.dead][0] : undefined;
      const cause = died ? `PE ${died[0]} ${died[1]} while it restored the checkpoint` : (err as Error).message.replace(/^automatic recovery: /, "");
      giveUp(now, pe, why, `Automatic recovery failed: ${cause}${attempt > 1 ? `, on each of its ${attempt} tries` : ""}.`, kept);
      return;
    }
  }
  const fresh = maybeRt()!;
  // The parts restored from are gone with the old PEs (or are being written over): until the fresh checkpoint is whole, there is none.
  dropInMemory();
  missed = false; // deaths of the runtime just left behind, or of one whose restore failed, are dealt with
  try {
    await saveInMemory(fresh, encodeValue({}, "").v, last.atSync, what);
    await everyPe(fresh, "resume", () => last.atSync as CollectionId[], what);
  } catch (err) {
    // A PE lost now: afterRecovery recovers from the fresh checkpoint if it was taken, or says there is none.
    if (fresh.failures.dead.size === 0) fresh.reportUnhandled(errorToData(err, DRIVER, undefined, what));
  }
}

/** Recovery can't happen (`reason`, a sentence): futures kept for it reject, saying why; later deaths reject at once. */
function giveUp(runtime: Runtime, pe: number, why: string, reason: string, kept?: Array<[FutureId, FutureState]>): void {
  runtime.failures.holdHanded = false;
  PeLostError.remedy = GIVE_UP; // nothing goes back by itself any more
  releaseHeld(runtime);
  const waiting = kept ?? [...runtime.futures].filter(([, s]) => s.status === "pending" && handed(s));
  for (const [fid, state] of waiting) {
    if (!handed(state)) continue;
    runtime.futures.delete(fid);
    state.reject(new PeLostError(pe, why, reason, GIVE_UP));
  }
  runtime.reportUnhandled({ name: "RecoveryFailed", message: `PE ${pe} ${why}; ${reason} ${GIVE_UP}`, stack: "", pe: DRIVER });
}
