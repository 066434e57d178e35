/**
 * Where a PE's printing goes in a notebook: to the driver as runtime messages, each line marked
 * "[PE n] ". Riding the same ordered channel as the PE's other messages means a cell that awaits
 * a reply has also received everything the PE printed before replying (worker stdout pipes give
 * no such order).
 *
 * Writes are joined into one message per 16 kB (or per turn of the event loop, or before the PE
 * sends anything else, so the order with its replies holds): a PE printing in a tight loop would
 * otherwise send a message per line, and the driver, one thread taking every PE's messages,
 * falls behind and queues them without bound.
 *
 * Past its budget (output-budget.ts: a burst per cell, then a rate) the PE sends nothing more of
 * a flood: it counts what it held back and says so once a second, and when the flood pauses (or
 * before its next reply, or every 10 s) it sends its own record of its recent output, shown or
 * not, for `charm.output(pe)`. So what reaches the driver is bounded per second, whatever runs.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { DRIVER } from "../protocol/ids.ts";
import type { Runtime } from "../core/runtime.ts";
import { OutputBudget, outputRatesFromEnv } from "./output-budget.ts";
import { OutputRing } from "./output-ring.ts";

/** Output joined into one message up to this many characters. */
const BATCH_CHARS = 16 * 1024;
/** While holding output back: the counts go out this often, the recent output at least this often. */
const COUNTS_EVERY_MS = 1000;
const RECENT_EVERY_MS = 10_000;
/** A flood that printed nothing for this long has paused: its recent output goes out. */
const PAUSE_MS = 250;

interface Batch {
  stream: "stdout" | "stderr";
  text: string;
  cause: number;
  /** The async context of the batch's first write: the message goes out as caused by its work. */
  context: <R>(fn: () => R) => R;
}

/** Sends everything this thread writes to stdout and stderr to the driver, lines labelled. */
export function printThroughDriver(runtime: Runtime): void {
  runtime.scheduler.trackCauses(); // so output after an await in an entry method still finds its cell
  let batch: Batch | null = null;
  const send = runtime.send.bind(runtime);
  const flush = (): void => {
    const b = batch;
    if (!b) return;
    batch = null;
    b.context(() => send(DRIVER, { t: "output", stream: b.stream, text: b.text, pe: runtime.self }));
  };
  const withheld = holdBack(runtime, send, flush);
  // Anything else this PE sends (a reply, an echo) goes after the output printed before it.
  runtime.send = (to, msg, transfer) => {
    flush();
    withheld.report(true);
    send(to, msg, transfer);
  };
  // A PE that ends (a fatal error in a PE process) still sends what it printed last, if it can.
  process.once("exit", () => { try { flush(); withheld.report(true); } catch { /* the transport is gone */ } });
  const safeSetImmediate = setImmediate;
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    let atLineStart = true;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      let out = "";
      for (const piece of text.split(/(?<=\n)/)) {
        if (piece === "") continue;
        out += (atLineStart ? `[PE ${runtime.self}] ` : "") + piece;
        atLineStart = piece.endsWith("\n");
      }
      if (out && withheld.admit(out)) {
        const cause = runtime.scheduler.currentCause();
        if (batch && (batch.stream !== name || batch.cause !== cause || batch.text.length >= BATCH_CHARS)) flush();
        if (batch) batch.text += out;
        else {
          const mine: Batch = (batch = { stream: name, text: out, cause, context: AsyncLocalStorage.snapshot() });
          safeSetImmediate(() => { if (batch === mine) flush(); });
        }
      }
      const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof stream.write;
  }
}

/** The PE's budget, its record of recent output, and the reports of what it held back. */
function holdBack(runtime: Runtime, send: Runtime["send"], flush: () => void) {
  const { setTimeout: safeSetTimeout, clearTimeout: safeClearTimeout } = globalThis;
  const recent = new OutputRing();
  let budget: OutputBudget;
  try {
    budget = new OutputBudget(outputRatesFromEnv());
  } catch {
    budget = new OutputBudget(outputRatesFromEnv({})); // the kernel reports the bad setting
  }
  let owed = false; // recent output not sent since something was held back
  let countedAt = performance.now();
  let recentAt = countedAt;
  let lastHeld = 0;
  let pause: ReturnType<typeof setTimeout> | undefined;
  const report = (withRecent: boolean): void => {
    const counts = budget.takeWithheld();
    const sendRecent = withRecent && owed;
    if (!counts && !sendRecent) return;
    flush(); // what went out before the hold-back stays ahead of the report
    countedAt = performance.now();
    if (sendRecent) {
      owed = false;
      recentAt = countedAt;
      if (pause) safeClearTimeout(pause);
      pause = undefined;
    }
    const dropped = { lines: counts?.lines ?? 0, bytes: counts?.bytes ?? 0, ...(sendRecent ? { recent: recent.text() } : {}) };
    send(DRIVER, { t: "output", stream: "stdout", text: "", pe: runtime.self, dropped });
  };
  const paused = (): void => {
    pause = undefined;
    if (!owed) return;
    const quiet = performance.now() - lastHeld;
    if (quiet >= PAUSE_MS) return report(true);
    pause = safeSetTimeout(paused, PAUSE_MS - quiet);
    pause.unref?.();
  };
  return {
    report,
    /** Whether `out` goes to the driver; kept in the recent output either way. */
    admit(out: string): boolean {
      recent.push(out);
      if (budget.admit(out, runtime.scheduler.currentCause())) return true;
      owed = true;
      lastHeld = performance.now();
      if (lastHeld - countedAt >= COUNTS_EVERY_MS) report(lastHeld - recentAt >= RECENT_EVERY_MS);
      if (!pause && owed) {
        pause = safeSetTimeout(paused, PAUSE_MS);
        pause.unref?.();
      }
      return false;
    },
  };
}
