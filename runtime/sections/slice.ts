/** Python's slice arithmetic (`range(*slice(start, stop, step).indices(n))`), for `proxy.slice`. */
import { CharmError } from "../protocol/errors.ts";

/** One dimension's range: `[start, stop, step]`, any of them left out (null/undefined) as in Python. */
export type SliceRange = readonly [start?: number | null, stop?: number | null, step?: number | null];

/** The indices a Python slice selects from `0…extent-1` (negative start/stop count from the end). */
export function pythonRange(extent: number, start: number | null | undefined, stop: number | null | undefined, step: number | null | undefined, label: string): number[] {
  const s = step ?? 1;
  for (const [name, v] of [["start", start], ["stop", stop], ["step", step]] as const) {
    if (v !== null && v !== undefined && !Number.isInteger(v)) throw new CharmError(`${label}.slice(): ${name} must be an integer (or null), got ${v}`);
  }
  if (s === 0) throw new CharmError(`${label}.slice(): step can't be 0`);
  // The clamping bounds: forward slices stay in 0…extent, backward ones in -1…extent-1.
  const lower = s > 0 ? 0 : -1;
  const upper = s > 0 ? extent : extent - 1;
  const clamp = (v: number | null | undefined, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    return v < 0 ? Math.max(v + extent, lower) : Math.min(v, upper);
  };
  const from = clamp(start, s > 0 ? lower : upper);
  const to = clamp(stop, s > 0 ? upper : lower);
  const out: number[] = [];
  for (let i = from; s > 0 ? i < to : i > to; i += s) out.push(i);
  return out;
}
