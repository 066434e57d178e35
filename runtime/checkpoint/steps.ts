/** A PE's handler for the driver's checkpoint and restore steps: runs the step, answers its future. */
import { PeLostError, errorToData } from "../protocol/errors.ts";
import type { Message } from "../protocol/messages.ts";
import type { Runtime } from "../core/runtime.ts";
import { rejectFuture, sendToFuture } from "../core/future.ts";
import { checkpointSteps } from "./on-demand.ts";

type CkptMsg = Extract<Message, { t: "ckpt" }>;

const PLAIN_REMEDY = PeLostError.remedy;

/**
 * Steps that count as work in flight while they run (writing or reading a PE's part can take
 * seconds, with no message moving): quiescence isn't reached meanwhile, so a notebook's hang check
 * doesn't take a long save for a cell nothing will answer. Not the barrier's steps, which wait for
 * what only comes once the runtime is quiescent.
 */
const COUNTED: Record<CkptMsg["step"], boolean> = {
  save: true, load: true, install: true, place: true, hooks: true, abort: true, keep: true, fetch: true,
  every: false, barrier: false, check: false, resume: false,
};

/** Runs one step on this PE; its answer (or error) goes to the step's future. */
export function checkpointStep(rt: Runtime, msg: CkptMsg): void {
  let result: Promise<unknown>;
  // Counting AtSync rounds starts at once: a round due before the step code loaded would go unsaved.
  if (msg.step === "every") {
    rt.balancing.holdEvery = msg.v as number;
    // What a PeLostError raised here advises: automatic recovery, not a restart by hand.
    PeLostError.remedy = rt.balancing.holdEvery > 0 ? "automatic recovery goes back to the last checkpoint at an AtSync barrier." : PLAIN_REMEDY;
    result = Promise.resolve(true);
  } else {
    // A due round's plan is held work from its arrival, before the step code runs (it may still
    // load): the moment the elements wait for it isn't the program's quiescence (barrier.ts).
    if (msg.step === "barrier") rt.quiescence.holdPlans(1);
    result = checkpointSteps().then((steps) => steps.runStep(rt, msg));
    if (msg.step === "barrier") result = result.catch((err) => { rt.quiescence.holdPlans(-1); throw err; });
  }
  if (COUNTED[msg.step]) result = result.finally(rt.scheduler.traffic.pending());
  const fid = msg.fid;
  if (fid === undefined) {
    result.catch((err) => rt.reportUnhandled(errorToData(err, rt.self, undefined, `checkpoint ${msg.step}`)));
    return;
  }
  result.then((v) => sendToFuture(fid, v ?? null), (err) => rejectFuture(fid, errorToData(err, rt.self)));
}
