/**
 * What every endpoint does when a PE dies (its worker thread or process ended, or the driver
 * gave up on it). The driver notices and tells every live PE; each endpoint then rejects the
 * futures homed there that could only be completed with that PE's help — a call to one of its
 * chares, a broadcast, or a future that was handed to chares (anyone might have been meant to
 * complete it) — so nothing hangs. Later calls to its chares, and broadcasts, fail at once.
 */
import { PeLostError } from "../protocol/errors.ts";
import { DRIVER, INCARNATION_IDS, counterOf, homeOf, type CollectionId, type Endpoint, type FutureId, type Index } from "../protocol/ids.ts";
import type { Replacement } from "../protocol/join.ts";
import type { CollectionRef } from "../protocol/messages.ts";
import type { Runtime } from "./runtime.ts";

// Late values are looked up among this many futures a PE's death rejected (the newest).
const LOSS_REJECTIONS_KEPT = 4096;

/** A future waiting on every PE (a broadcast's replies, or a future handed to chares). */
export const ANY_PE = "any PE";

/** Which PE's death dooms a call: one PE, or any (ANY_PE). */
export type WaitsOn = Endpoint | typeof ANY_PE;

/** What failure handling uses of its runtime: its futures, transport, traffic counts, quiescence waves and hosted elements. */
export type FailuresRuntime = Pick<Runtime, "futures" | "creations" | "runner" | "numPes" | "quiescence" | "scheduler" | "self" | "send" | "transport" | "channels" | "locate">;

/** PEs known to be dead, and the rejections their deaths cause. */
export class Failures {
  /** Dead PEs and why ("exited with code 1"). */
  readonly dead = new Map<Endpoint, string>();
  /** PEs restarted in place: collections older than the restart lost their chares there. */
  readonly replacements: Replacement[] = [];
  /**
   * Automatic recovery is armed (driver): a future handed to chares stays pending when a PE
   * dies, for recovery to carry over (or reject) once it knows whether the checkpoint mentions it.
   */
  holdHanded = false;
  /**
   * Futures rejected because a PE died while they waited: a value the live PEs still send for one
   * (a broadcast's other replies, an echo of every PE) is expected, not an error. The newest few
   * thousand are kept.
   */
  readonly rejectedByLoss = new Set<FutureId>();
  /** How many of this endpoint's futures each dead PE's loss rejected (the driver asks the PEs: heardOf). */
  private readonly heardCounts = new Map<Endpoint, number>();
  /** Called once a PE is known dead, after the rejections (driver: automatic recovery starts). */
  onLost: ((pe: Endpoint, why: string) => void) | undefined;

  constructor(private readonly rt: FailuresRuntime) {}

  /**
   * The driver learned a PE died: every live PE hears of it, then this endpoint acts. Returns
   * how many of this endpoint's futures it rejected (the program heard of the loss through them).
   */
  peDied(pe: Endpoint, why: string): number {
    if (this.dead.has(pe)) return 0;
    for (let other = 0; other < this.rt.numPes; other++) {
      if (other !== pe && !this.dead.has(other)) this.rt.send(other, { t: "peDead", pe, why });
    }
    return this.heard(pe, why);
  }

  /** A PE is dead: futures that depended on it reject; returns how many did. */
  heard(pe: Endpoint, why: string): number {
    this.dead.set(pe, why);
    this.rt.scheduler.traffic.forget(pe); // its messages never arrive, nor does it handle what it was sent
    this.rt.transport.peerLost?.(pe); // messages waiting for it would never be taken
    this.rt.runner.lostInTransit(pe, why); // elements it was moving here never arrive
    let rejected = this.rt.channels.peLost(pe, why, (remote) => this.rt.locate(remote, remote.idx!)); // nor what its chares would send on channels
    rejected += this.rt.creations.peLost(pe, why); // nor will it build its share of a collection being created
    for (const [fid, state] of [...this.rt.futures]) {
      if (state.status !== "pending" || (state.on !== pe && state.on !== ANY_PE)) continue;
      if (this.holdHanded && state.on === ANY_PE && state.label === undefined) continue; // handed to chares: recovery decides
      this.rt.futures.delete(fid);
      this.noteRejectedByLoss(fid);
      state.reject(new PeLostError(pe, why, `${state.label ? `${state.label} was` : "this future was"} waiting on it and may or may not have run.`));
      if (!state.internal) rejected++;
    }
    this.heardCounts.set(pe, rejected);
    this.rt.quiescence.membersChanged(); // (driver) a wave waiting on it would wait for good
    this.onLost?.(pe, why);
    return rejected;
  }

  /** Future `fid` was rejected because of a PE's loss: values the live PEs still send for it are expected, not errors. */
  noteRejectedByLoss(fid: FutureId): void {
    this.rejectedByLoss.add(fid);
    if (this.rejectedByLoss.size > LOSS_REJECTIONS_KEPT) this.rejectedByLoss.delete(this.rejectedByLoss.values().next().value!);
  }

  /** How many of this endpoint's futures the losses of `pes` rejected: the program heard of them through those. */
  rejectedFor(pes: Endpoint[]): number {
    return pes.reduce((sum, pe) => sum + (this.heardCounts.get(pe) ?? 0), 0);
  }

  /** A dead PE was restarted in place: it is alive again, without the chares it had. */
  replaced(r: Replacement): void {
    this.dead.delete(r.pe);
    this.heardCounts.delete(r.pe);
    this.replacements.push(r);
    this.rt.quiescence.membersChanged(); // (driver) the new PE is probed from the next wave on
  }

  /** Whether a restart of `pe` already took the chares collection `cid` had there. */
  lostOn(pe: Endpoint, cid: CollectionId): boolean {
    return this.replacements.some((r) => r.pe === pe && this.older(r, cid));
  }

  /** Whether collection `cid` existed before replacement `r` (its chares on `r.pe` are gone). */
  private older(r: Replacement, cid: CollectionId): boolean {
    const creator = homeOf(cid);
    if (creator === r.pe) return counterOf(cid) < r.incarnation * INCARNATION_IDS;
    const mark = r.marks.find(([ep]) => ep === creator)?.[1];
    return mark !== undefined && counterOf(cid) <= mark;
  }

  /** On a restarted PE: why a message for collection `cid`, unknown here, will never find its chare. */
  lostHere(cid: CollectionId): string | undefined {
    for (const r of this.replacements) if (r.pe === this.rt.self && this.older(r, cid)) return lostText(r);
    return undefined;
  }

  /** Throws at once for a call whose chare was lost with a restarted PE (`idx` undefined: a broadcast). */
  checkLost(ref: CollectionRef, idx: Index | undefined, pe: WaitsOn, what: string): void {
    for (const r of this.replacements) {
      if (!this.older(r, ref.cid)) continue;
      if (idx ? pe === r.pe : ref.kind !== "single" || ref.pe === r.pe) throw new PeLostError(r.pe, lostText(r), `${what} needs a chare that was there.`);
    }
  }

  /** Throws at once for a call to a chare on a dead PE (or a broadcast, `pe` = ANY_PE, while any is dead). */
  check(pe: WaitsOn, what: string): void {
    if (this.dead.size === 0) return;
    if (pe === ANY_PE) {
      const [first, why] = this.dead.entries().next().value!;
      throw new PeLostError(first, why, `${what} would need every PE.`);
    }
    const why = this.dead.get(pe);
    if (why !== undefined && pe !== DRIVER) throw new PeLostError(pe, why, `${what} can't reach it.`);
  }
}

function lostText(r: Replacement): string {
  return `was restarted (${r.why}), and the chares it held were lost`;
}
