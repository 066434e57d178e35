/**
 * Timers set by an interrupted cell's code stay silent. An interrupt abandons a cell that awaits
 * (its awaits can't be cancelled from outside), so `while (true) { …; await new Promise((r) =>
 * setTimeout(r, 10)) }` went on in the background; with its wake-up dropped, the loop stays
 * parked at that await for good, and an interval it set is cleared. The runtime captured the
 * real timers before any cell ran, so its own are unaffected; other cells' timers run as ever.
 * Installed at the first interrupt (a timer the loop set before it fires once more; the next
 * one it sets is parked).
 */
type TimerName = "setTimeout" | "setInterval" | "setImmediate";

let installed = false;

/** Replaces the cells' global timer functions with ones whose callbacks don't run for an interrupted cell (once). */
export function parkInterruptedTimers(interrupted: () => boolean): void {
  if (installed) return;
  installed = true;
  const g = globalThis as unknown as Record<TimerName, (...args: any[]) => unknown>;
  const clear = clearInterval;
  for (const name of ["setTimeout", "setInterval", "setImmediate"] as const) {
    const real = g[name];
    const guarded = function (this: unknown, callback: unknown, ...rest: unknown[]): unknown {
      if (typeof callback !== "function") return real.call(this, callback, ...rest); // Node's own error for it
      // The check runs when the timer fires, in the async context of the code that set it.
      const wrapped = function (this: unknown, ...args: unknown[]): unknown {
        if (!interrupted()) return callback.apply(this, args);
        if (name === "setInterval") clear(this as NodeJS.Timeout);
        return undefined;
      };
      return real.call(this, wrapped, ...rest);
    };
    // util.promisify.custom and the like: `promisify(setTimeout)` still works.
    for (const key of Reflect.ownKeys(real)) {
      if (key !== "length" && key !== "name" && key !== "prototype") Object.defineProperty(guarded, key, Object.getOwnPropertyDescriptor(real, key)!);
    }
    Object.defineProperty(guarded, "name", { value: name });
    g[name] = guarded;
  }
}
