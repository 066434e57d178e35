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
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { DRIVER } from "../protocol/ids.ts";
import type { Runtime } from "../core/runtime.ts";

/** Output joined into one message up to this many characters. */
const BATCH_CHARS = 16 * 1024;

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
  // Anything else this PE sends (a reply, an echo) goes after the output printed before it.
  runtime.send = (to, msg, transfer) => {
    flush();
    send(to, msg, transfer);
  };
  // A PE that ends (a fatal error in a PE process) still sends what it printed last, if it can.
  process.once("exit", () => { try { flush(); } catch { /* the transport is gone */ } });
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
      if (out) {
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
