/** Waiting with a limit, on timers captured before any cell code runs (a cell may replace setTimeout). */
const { setTimeout: safeSetTimeout } = globalThis;

/** What `settledWithin` gives when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/** `promise`'s value, or TIMED_OUT after `ms`. */
export function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  return new Promise((resolve) => {
    const timer = safeSetTimeout(() => resolve(TIMED_OUT), ms);
    void promise.then((value) => { clearTimeout(timer); resolve(value); });
  });
}
