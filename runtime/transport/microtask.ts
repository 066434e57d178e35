/** A cheap microtask scheduler for the message loop and the transports' end-of-turn flushes. */

/**
 * Returns a function that runs `fn` in a microtask. A resolved promise's then() costs ~5× less
 * than Node's queueMicrotask, which wraps every callback in an AsyncResource. The bound then()
 * is captured now, before user code could patch Promise. `fn` must not throw (it would surface
 * as an unhandled rejection): the loop and the flushes catch their own errors.
 */
export function deferMicrotask(): (fn: () => void) => void {
  const resolved = Promise.resolve();
  const then = resolved.then.bind(resolved) as (fn: () => void) => Promise<void>;
  return (fn) => { then(fn); };
}
