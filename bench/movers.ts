// Chares the load-balancing benchmarks drive; every PE loads this module.
import { charm, Chare, type ElementProxy, type Future } from "../runtime/index.ts";

/**
 * An element with a state of a given size that tours the PEs by migrating, or (the floor)
 * volleys the same bytes between two elements as entry-method arguments. Both are chains of
 * one-way PE-to-PE hops that start and end on a PE, so the driver's messages don't count.
 */
export class Mover extends Chare {
  state: Float64Array;
  left = 0;
  /** Sent when the tour is over (a field, so it travels with the element). */
  done: Future<void> | undefined;

  constructor(bytes: number) {
    super();
    this.state = new Float64Array(bytes / 8).fill(1.5);
  }

  /** Migrates to the other PE `hops` times in a row (2 PEs). */
  tour(hops: number, done: Future<void>) {
    this.left = hops;
    this.done = done;
    this.migrate(1 - charm.myPe());
  }

  migrated() {
    if (--this.left > 0) this.migrate(1 - charm.myPe());
    else this.done!.send();
  }

  /** The floor: `hops` one-way sends of the same bytes, alternating between this element and `partner`. */
  volley(hops: number, partner: ElementProxy<Mover>, done: Future<void>) {
    partner.catch(this.state, hops - 1, this.thisProxy.at(...this.thisIndex), done);
  }

  catch(data: Float64Array, left: number, back: ElementProxy<Mover>, done: Future<void>) {
    if (left === 0) done.send();
    else back.catch(data, left - 1, this.thisProxy.at(...this.thisIndex), done);
  }
}
