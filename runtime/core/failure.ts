/**
 * What every endpoint does when a PE dies (its worker thread or process ended, or the driver
 * gave up on it). The driver notices and tells every live PE; each endpoint then rejects the
 * futures homed there that could only be completed with that PE's help — a call to one of its
 * chares, a broadcast, or a future that was handed to chares (anyone might have been meant to
 * complete it) — so nothing hangs. Later calls to its chares, and broadcasts, fail at once.
 */
import { PeLostError } from "../protocol/errors.ts";
import { DRIVER, type Endpoint } from "../protocol/ids.ts";
import type { Runtime } from "./runtime.ts";

/** A future waiting on every PE (a broadcast's replies, or a future handed to chares). */
export const ANY_PE = -2;

/** PEs known to be dead, and the rejections their deaths cause. */
export class Failures {
  /** Dead PEs and why ("exited with code 1"). */
  readonly dead = new Map<Endpoint, string>();

  constructor(private readonly rt: Runtime) {}

  /** The driver learned a PE died: every live PE hears of it, then this endpoint acts. */
  peDied(pe: Endpoint, why: string): void {
    if (this.dead.has(pe)) return;
    for (let other = 0; other < this.rt.numPes; other++) {
      if (other !== pe && !this.dead.has(other)) this.rt.send(other, { t: "peDead", pe, why });
    }
    this.heard(pe, why);
  }

  /** A PE is dead: futures that depended on it reject. */
  heard(pe: Endpoint, why: string): void {
    this.dead.set(pe, why);
    for (const [fid, state] of [...this.rt.futures]) {
      if (state.status !== "pending" || (state.on !== pe && state.on !== ANY_PE)) continue;
      this.rt.futures.delete(fid);
      state.reject(new PeLostError(pe, why, `${state.label ? `${state.label} was` : "this future was"} waiting on it and may or may not have run.`));
    }
  }

  /** Throws at once for a call to a chare on a dead PE (or a broadcast, `pe` = ANY_PE, while any is dead). */
  check(pe: Endpoint, what: string): void {
    if (this.dead.size === 0) return;
    if (pe === ANY_PE) {
      const [first, why] = this.dead.entries().next().value!;
      throw new PeLostError(first, why, `${what} would need every PE.`);
    }
    const why = this.dead.get(pe);
    if (why !== undefined && pe !== DRIVER) throw new PeLostError(pe, why, `${what} can't reach it.`);
  }
}
