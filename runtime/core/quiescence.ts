/**
 * Quiescence detection by counting waves: the driver asks every PE for its totals of messages
 * sent and handled; when two consecutive waves see the same totals and they balance, no
 * message is in flight and none was handled in between, so nothing can happen any more.
 */
import { DRIVER } from "../protocol/ids.ts";
import type { TargetRef } from "../protocol/messages.ts";
import type { Runtime } from "./runtime.ts";
import { callTarget } from "../collectives/targets.ts";

/** What quiescence detection uses of its runtime: sending, the PE count, the traffic counts and the dead. */
export type QuiescenceProbeRuntime = Pick<Runtime, "failures" | "isDriver" | "numPes" | "scheduler" | "send" | "runner">;

/** Someone waiting for quiescence. */
export interface QuietWaiter {
  done: () => void;
  /** Quiet enough with messages held back by the driver (a checkpoint's own wait). */
  ignoringHeld?: boolean;
}

/** Answers probes on PEs; runs waves on the driver. */
export class QuiescenceProbe {
  private wave = 0;
  private replies = 0;
  private sent = 0;
  private handled = 0;
  private suspended = 0;
  /** Entry methods that were suspended at an `await` (on all PEs) at the last quiescent moment. */
  suspendedAtQuiet = 0;
  private previous: [number, number] | undefined;
  private waiters: QuietWaiter[] = [];
  /** Quiet, but messages held back (scheduler.hold) keep the waiters that count them waiting until `resume`. */
  private paused = false;
  // Balancing plans the driver holds back (holdPlans).
  private plansHeld = 0;
  private readonly later = setImmediate;
  private readonly timer = setTimeout;
  private wavesInRun = 0;

  constructor(private readonly rt: QuiescenceProbeRuntime) {}

  /** Resolves once the whole runtime is quiescent, the driver's held messages included (driver only; PEs ask the driver). */
  whenQuiet(): Promise<void> {
    return new Promise((resolve) => this.onQuiet({ done: resolve }));
  }

  /** Calls `w.done` synchronously at the first quiescent moment (with `ignoringHeld`, one with messages held back counts). */
  onQuiet(w: QuietWaiter): void {
    this.waiters.push(w);
    if (this.waiters.length === 1 || this.paused) this.restart();
  }

  /** `w` waits no more (a bounded look that gave up: driver/hang-watch.ts); once nobody waits, the waves stop. */
  cancel(w: QuietWaiter): void {
    this.waiters = this.waiters.filter((x) => x !== w);
  }

  /**
   * The PEs that answer changed: one died, or a restarted one joined. A wave in flight may wait
   * for a reply that never comes (its probe sat behind the loop that ended the PE) or count
   * replies against the wrong number of PEs, and no wave would start again: it starts anew.
   */
  membersChanged(): void {
    if (this.waiters.length > 0 && !this.paused) this.restart();
  }

  /**
   * Driver: `n` more (or, negative, fewer) balancing plans held back (a due barrier's, until its
   * checkpoint is taken: checkpoint/barrier.ts). Like held messages, they will go on: a moment
   * when the elements wait at their barrier for them isn't quiescence, except to waiters that
   * count held work (`ignoringHeld`: the checkpoint's own wait); `waitQD` and the hang check wait on.
   */
  holdPlans(n: number): void {
    this.plansHeld += n;
    if (this.plansHeld === 0) this.resume();
  }

  /** Held messages were sent (scheduler.release): waiters that count them look again. */
  resume(): void {
    if (this.paused && this.waiters.length > 0) this.restart();
  }

  private restart(): void {
    this.paused = false;
    this.previous = undefined;
    this.wavesInRun = 0;
    this.startWave();
  }

  /** Calls `target` once the runtime is quiescent, from any endpoint. */
  startQD(target: TargetRef): void {
    if (this.rt.isDriver) void this.whenQuiet().then(() => callTarget(target, []));
    else this.rt.send(DRIVER, { t: "qdStart", target });
  }

  /** A PE's answer to a probe: its own totals. */
  answer(wave: number): void {
    const [sent, handled] = this.rt.scheduler.traffic.counts();
    this.rt.send(DRIVER, { t: "qdCount", wave, sent, recv: handled, susp: this.rt.runner.suspended });
  }

  /** The driver collects one PE's totals for the current wave. */
  count(wave: number, sent: number, handled: number, suspended = 0): void {
    if (wave !== this.wave) return;
    this.sent += sent;
    this.handled += handled;
    this.suspended += suspended;
    if (++this.replies < this.rt.numPes - this.rt.failures.dead.size) return; // the dead don't answer
    const [ownSent, ownHandled] = this.rt.scheduler.traffic.counts();
    const totals: [number, number] = [this.sent + ownSent, this.handled + ownHandled];
    const quiet = totals[0] === totals[1] && this.previous?.[0] === totals[0] && this.previous[1] === totals[1];
    this.previous = totals;
    if (quiet) {
      this.suspendedAtQuiet = this.suspended;
      const held = this.rt.scheduler.heldCount > 0 || this.plansHeld > 0;
      const ready = held ? this.waiters.filter((w) => w.ignoringHeld) : this.waiters;
      this.waiters = held ? this.waiters.filter((w) => !w.ignoringHeld) : [];
      this.paused = this.waiters.length > 0; // only with messages held: the waves start again at their release
      for (const w of ready) w.done();
      return;
    }
    if (this.waiters.length === 0) return; // nobody waits any more
    // Probe again soon; back off a little when the system stays busy so waves don't hog a core.
    if (++this.wavesInRun < 20) this.later(() => this.startWave());
    else this.timer(() => this.startWave(), 2);
  }

  private startWave(): void {
    this.wave++;
    this.replies = 0;
    this.sent = 0;
    this.handled = 0;
    this.suspended = 0;
    for (let pe = 0; pe < this.rt.numPes; pe++) if (!this.rt.failures.dead.has(pe)) this.rt.send(pe, { t: "qdProbe", wave: this.wave });
  }
}
