/**
 * The driver's side of checkpoints at AtSync barriers (`checkpoint: { everySync }`): the plan of
 * an array's due round comes here instead of going to the PEs (lb/balancer.ts), so its elements
 * wait at their barrier while the checkpoint is taken; then the plan goes on.
 *
 * A program may balance several arrays that step independently, and a checkpoint can't hold an
 * array mid-round (some elements called AtSync, the round unfinished). So a due plan is held until
 * quiescence — nothing in flight, nothing running — and then every other array is either:
 * - out of a round (finished, or waiting for something else): saved as it is;
 * - at a due barrier of its own, its plan held here too: saved with this one, both at their
 *   barriers (the save's `atSync` lists them), and recovery resumes both;
 * - stuck mid-round: an element waits for what only the driver's program, or an array held here,
 *   can send. Holding on could deadlock (the program may await the held array before it unblocks
 *   the other), so that checkpoint is skipped and the plans go on; the next due barrier tries
 *   again, and after SKIPS_BEFORE_WARNING skipped in a row the program is warned, once.
 * Quiescence can't come while another array still steps: a held plan lets the others run on to
 * their own due barrier (at most everySync rounds away), so independent arrays end up saved
 * together, at one moment, instead of each refusing the other.
 *
 * Every plan held is sent on, whatever the checkpoint's outcome, unless a PE was lost meanwhile:
 * then recovery replaces the runtime (auto.ts), and the held round goes with it. A recovery that
 * gives up leaves the runtime as it is: what was held goes on to the PEs still alive, and nothing
 * more is held for it (it carries on as a runtime never armed; charm.restart() is the way back).
 *
 * While a due barrier waits for quiescence, what the driver sends to chares is held (moment.ts):
 * a loop on the driver stepping another array would otherwise keep quiescence away.
 *
 * Quiescence may never come: a chare sleeping in a loop (`charm.sleep` counts as a message in
 * flight), a stream of messages that never pauses. So the wait is bounded (QUIET_WAIT_MS): past
 * it, that checkpoint is skipped, the plans go on, and the program is warned at once (a stall of
 * that length at every due barrier is worth knowing about) — the array never waits for good.
 */
import { CharmError, errorToData } from "../protocol/errors.ts";
import { DRIVER } from "../protocol/ids.ts";
import type { Message } from "../protocol/messages.ts";
import { encodeValue } from "../protocol/codec.ts";
import { maybeRt } from "../core/current.ts";
import type { Runtime } from "../core/runtime.ts";
import { everyPe, saveInMemory } from "./driver.ts";
import type { Unsavable } from "./save.ts";
import { quietWithin } from "./moment.ts";

type LbPlan = Extract<Message, { t: "lbPlan" }>;

/** Due barrier checkpoints skipped in a row (an array stuck mid-round) before the program is warned. */
export const SKIPS_BEFORE_WARNING = 5;

/** How long a due barrier's plans are held waiting for quiescence before that checkpoint is skipped. */
export const QUIET_WAIT_MS = 5000;
let quietWait = QUIET_WAIT_MS;

/** Tests: a shorter wait for quiescence (undefined: back to QUIET_WAIT_MS). */
export function setQuietWait(ms: number | undefined): void {
  quietWait = ms ?? QUIET_WAIT_MS;
}

interface Holding {
  readonly runtime: Runtime;
  readonly every: number;
  /** Plans of due rounds not yet sent on. */
  readonly plans: LbPlan[];
  /** A checkpoint is being taken for the plans held: the next plan waits for it, then goes in the next. */
  taking: boolean;
  /** Due barrier checkpoints skipped since the last one taken. */
  skipped: number;
}

let holding: Holding | undefined;
// Once per program, not per runtime: a recovery's runtime doesn't warn again.
let warned = false;
let warnedBusy = false;

/** A runtime just armed (auto.ts): its due plans are held here; those held for a runtime left behind go with it. */
export function holdPlansOf(runtime: Runtime, every: number): void {
  holding = { runtime, every, plans: [], taking: false, skipped: 0 };
}

/** Automatic checkpoints are off (a shutdown): nothing is held any more. */
export function stopHolding(): void {
  holding = undefined;
  warned = warnedBusy = false;
}

/** Recovery gave up on `runtime`: the plans held for it go on, and later ones go straight through. */
export function releaseHeld(runtime: Runtime): void {
  const h = holding?.runtime === runtime ? holding : undefined;
  if (!h) return;
  holding = undefined;
  for (const plan of h.plans.splice(0)) sendOn(runtime, plan, true);
}

/** Driver: an array's elements all wait at the barrier of a due round; the checkpoint is taken (or skipped), then the plan goes on. */
export async function atBarrier(runtime: Runtime, plan: LbPlan): Promise<void> {
  // Held work since its message arrived (steps.ts): not quiescence while it waits here. Every
  // path below sends it on (sendOn) or keeps it held for a recovery that replaces this runtime.
  const h = holding?.runtime === runtime ? holding : undefined;
  if (!h) {
    if (!lost(runtime)) sendOn(runtime, plan, true);
    return;
  }
  h.plans.push(plan);
  if (h.taking) return;
  h.taking = true;
  try {
    // A plan that came while a checkpoint was saved (the program sent something meanwhile) gets the next.
    while (h.plans.length > 0 && !lost(runtime)) await takeAtQuiescence(h);
  } finally {
    h.taking = false;
  }
}

/**
 * Waits for quiescence, checkpoints every array whose plan is held then (unless one is stuck
 * mid-round), and sends their plans on. What the driver sends to chares meanwhile is held (as by
 * charm.checkpoint, moment.ts): a loop on the driver stepping another array pauses at its next
 * send instead of keeping quiescence away until the wait runs out.
 */
async function takeAtQuiescence(h: Holding): Promise<void> {
  const release = h.runtime.holdSends();
  try {
    await takeHeld(h);
  } finally {
    release();
  }
}

async function takeHeld(h: Holding): Promise<void> {
  const { runtime } = h;
  const quiet = await quietWithin(runtime, quietWait);
  if (lost(runtime)) return;
  const plans = h.plans.splice(0);
  // Lost meanwhile: the plans stay held, for the recovery to drop or, if it gives up, to send on.
  const keep = (): void => void h.plans.unshift(...plans);
  const cids = plans.map((p) => p.cid);
  const what = `the checkpoint at an AtSync barrier (checkpoint: { everySync: ${h.every} })`;
  if (!quiet) {
    if (!warnedBusy) {
      warnedBusy = true;
      process.stderr.write(`charm4ts: warning: ${what} was skipped: the runtime wasn't quiescent within ${quietWait / 1000} s (the array waited at its barrier meanwhile). A checkpoint needs a moment with no message in flight: a chare sleeping in a loop (charm.sleep) or messages that never pause prevent it. Until one is taken, a lost PE goes back to the last checkpoint taken, or can't be recovered if none was.\n`);
    }
    for (const plan of plans) sendOn(runtime, plan, true);
    return;
  }
  try {
    // Asked before anything is written: a save refused half-way would leave some PEs a part of it.
    const answers = (await everyPe<Unsavable | null>(runtime, "check", () => cids, what)).filter((a) => a !== null);
    const problem = answers.find((a) => a.round) ?? answers[0];
    if (problem) skip(h, problem, what);
    else {
      await saveInMemory(runtime, encodeValue({}, "").v, cids, what);
      h.skipped = 0;
    }
  } catch (err) {
    if (lost(runtime)) return keep(); // recovery goes back to the checkpoint before
    runtime.reportUnhandled(errorToData(err, DRIVER, undefined, "checkpoint at AtSync"));
  }
  if (lost(runtime)) return keep();
  for (const plan of plans) sendOn(runtime, plan, true);
}

/** A due checkpoint that can't be taken: an array mid-round skips it quietly; anything else is an error. */
function skip(h: Holding, problem: Unsavable, what: string): void {
  if (!problem.round) h.runtime.reportUnhandled(errorToData(new CharmError(`${what}: ${problem.why}`), DRIVER, undefined, "checkpoint at AtSync"));
  if (++h.skipped < SKIPS_BEFORE_WARNING || warned) return;
  warned = true;
  const remedy = problem.round ? "A barrier checkpoint is taken when every load-balanced array is at a due barrier or out of a round: let the other arrays' rounds finish." : "See the errors reported with each.";
  process.stderr.write(`charm4ts: warning: ${what} was skipped at the last ${h.skipped} due barriers (last: ${problem.why}); a PE lost now goes back to the last checkpoint taken, or can't be recovered if none was. ${remedy}\n`);
}

/** Sends `plan` to every PE and applies it here; `held`: it was held here (atBarrier) until now. */
function sendOn(runtime: Runtime, plan: LbPlan, held = false): void {
  for (let pe = 0; pe < runtime.numPes; pe++) runtime.send(pe, plan);
  runtime.balancing.applyPlan(plan);
  if (held) runtime.quiescence.holdPlans(-1);
}

/** The runtime was replaced, or lost a PE that recovery is (or will be) dealing with. */
function lost(runtime: Runtime): boolean {
  return maybeRt() !== runtime || (runtime.failures.dead.size > 0 && runtime.failures.holdHanded);
}
