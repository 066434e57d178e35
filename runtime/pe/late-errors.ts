/**
 * Errors on a PE outside any entry method: a timer callback that throws, a promise nobody
 * awaits that rejects. Node would end the PE's thread or process, and every chare on it with
 * them; instead each is reported to the driver like an unobserved error (a script ends with
 * exit code 1, a notebook shows it in the cell, `charm.onError` gets it), and the PE carries on.
 */
import { errorToData, formatErrorData } from "../protocol/errors.ts";
import type { Runtime } from "../core/runtime.ts";

/** Reports this PE's uncaught exceptions and unhandled rejections to the driver instead of dying of them. */
export function reportLateErrors(runtime: Runtime): void {
  const report = (thrown: unknown, how: string): void => {
    // No entry method is running, so no chare can be named: the stack says where it came from.
    const data = errorToData(thrown, runtime.self);
    data.message = `${how}: ${data.message}`;
    try {
      runtime.reportUnhandled(data);
    } catch {
      // The way to the driver is gone (the PE is stopping): stderr is what is left, and an
      // exception thrown from here would end the PE after all.
      process.stderr.write(`charm4ts: ${formatErrorData(data)}\n`);
    }
  };
  process.on("uncaughtException", (err) => report(err, "uncaught outside any entry method (a timer or callback)"));
  process.on("unhandledRejection", (reason) => report(reason, "a promise nobody awaited rejected"));
}
