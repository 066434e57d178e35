/** A reduction's partial results: decoded as they arrive, and combined with a PE's own contributions. */
import { errorToData } from "../protocol/errors.ts";
import type { Endpoint } from "../protocol/ids.ts";
import type { ErrorData, Partial } from "../protocol/messages.ts";
import { decode } from "../protocol/codec.ts";
import { reducerFn, type ReducerName } from "./reducers.ts";

/**
 * A partial that arrived encoded, at PE `pe`. One it can't rebuild (an instance of a class not
 * registered there) still counts its contributions, and carries the reason as its error: the
 * reduction then fails saying so, rather than completing without them or never.
 */
export function decodePart(part: Partial, pe: Endpoint): Partial {
  try {
    return { ...part, v: decode(part.v) };
  } catch (err) {
    return { ...part, v: undefined, e: part.e ?? errorToData(err, pe, undefined, "a reduction's partial result") };
  }
}

/** Combines local contributions and partials with the reducer on PE `pe`; the first error wins. */
export function combine(reducer: ReducerName, local: unknown[], parts: Partial[], error: ErrorData | undefined, pe: Endpoint): Partial {
  const n = local.length + parts.reduce((sum, p) => sum + p.n, 0);
  const e = error ?? parts.find((p) => p.e)?.e;
  if (reducer === "nop") return { n, v: undefined, e };
  // With an error the values aren't needed (and a part that failed to arrive has none).
  if (reducer === "gather") return { n, v: e ? undefined : local.concat(...parts.filter((p) => p.n > 0).map((p) => p.v as unknown[])), e };
  const values = local.concat(parts.filter((p) => p.n > 0).map((p) => p.v));
  if (values.length === 0 || e) return { n, v: undefined, e };
  try {
    return { n, v: reducerFn(reducer)(values), e };
  } catch (err) {
    return { n, v: undefined, e: errorToData(err, pe, undefined, `reducer ${reducer}`) };
  }
}
