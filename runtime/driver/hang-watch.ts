/**
 * A script's hang check, as a notebook cell has one: while `main` runs, if futures homed on the
 * driver are pending and the whole runtime is quiescent (no message in flight anywhere, no entry
 * method running), no chare can resolve them — most often one forgot to send its result or to
 * contribute. The program is told once, on stderr, and keeps waiting.
 *
 * The look is bounded: quiescence waves run for at most PROBE_MS every HANG_CHECK_AFTER_MS, so a
 * long simulation that main awaits isn't probed the whole time (waves every 2 ms would be).
 */
import type { Runtime } from "../core/runtime.ts";
import type { QuietWaiter } from "../core/quiescence.ts";

/**
 * The hang notice when entry methods were suspended at an `await` at the quiescent moment (a
 * script's and a notebook's): they may wait for something outside the runtime (a file, the
 * network, a timer of their own), and then all is well, so it says so rather than "can't".
 */
export function suspendedNotice(who: string, futures: string, suspended: number, goOn: string): string {
  return `charm4ts: ${who} is waiting for ${futures}, and no message is in flight anywhere; ${suspended} entry method${suspended === 1 ? " is" : "s are"} ` +
    "suspended at an await. If they wait for something outside charm4ts (a file, the network, a timer), all is well; " +
    `if for a future or a channel message, nothing will come: did a chare forget to send? ${goOn}\n`;
}

/** How often the runtime is looked at while main waits. */
export const HANG_CHECK_AFTER_MS = 2000;
// How long one look may wait for quiescence: an idle runtime shows it within a few waves.
const PROBE_MS = 50;

// Captured before user code runs: a program that mocks timers can't stop the check.
const safeSetTimeout = setTimeout;
const safeClearTimeout = clearTimeout;

/** Watches `runtime` while main runs; `warn` gets the notice. Returns what ends the watch. */
export function watchForHang(runtime: Runtime, warn: (text: string) => void = (t) => process.stderr.write(t)): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let waiter: QuietWaiter | undefined;
  const later = (fn: () => void, ms: number): void => {
    timer = safeSetTimeout(fn, ms);
    timer.unref(); // the watch never keeps a program alive
  };
  const quiet = (): void => {
    waiter = undefined;
    if (timer) safeClearTimeout(timer);
    const pending = runtime.futures.size;
    if (stopped) return;
    if (pending === 0) { later(look, HANG_CHECK_AFTER_MS); return; }
    const futures = `${pending} future${pending === 1 ? "" : "s"} pending on the driver`;
    const suspended = runtime.quiescence.suspendedAtQuiet;
    warn(suspended === 0
      ? "charm4ts: main is waiting, but the runtime is quiescent — no message is in flight anywhere, " +
        `so no chare can resolve the ${futures}. Did a chare forget to send its result or to contribute? (Ctrl-C ends the program.)\n`
      : suspendedNotice("main", futures, suspended, "(Ctrl-C ends the program.)"));
  };
  const look = (): void => {
    if (stopped) return;
    if (runtime.futures.size === 0) { later(look, HANG_CHECK_AFTER_MS); return; }
    const w: QuietWaiter = { done: quiet };
    waiter = w;
    runtime.quiescence.onQuiet(w);
    later(() => {
      if (waiter !== w) return;
      runtime.quiescence.cancel(w); // busy: look again later
      waiter = undefined;
      later(look, HANG_CHECK_AFTER_MS);
    }, PROBE_MS);
  };
  later(look, HANG_CHECK_AFTER_MS);
  return () => {
    stopped = true;
    if (timer) safeClearTimeout(timer);
    if (waiter) runtime.quiescence.cancel(waiter);
  };
}
