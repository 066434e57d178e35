/** Custom placement for arrays: subclass ArrayMap, export it, and pass it as `map` when creating. */
import type { Index } from "../protocol/ids.ts";

/** Decides which PE each element of an array is created on (Charm4Py's ArrayMap). */
export abstract class ArrayMap {
  /** The PE for `index`, in 0 … numPes-1; must give the same answer on every PE. */
  abstract procNum(index: Index, numPes: number, dims?: readonly number[]): number;
}
