/**
 * Where a PE's printing goes in a notebook: to the driver as runtime messages, each line marked
 * "[PE n] ". Riding the same ordered channel as the PE's other messages means a cell that awaits
 * a reply has also received everything the PE printed before replying (worker stdout pipes give
 * no such order).
 */
import { DRIVER } from "../protocol/ids.ts";
import type { Runtime } from "../core/runtime.ts";

/** Sends everything this thread writes to stdout and stderr to the driver, lines labelled. */
export function printThroughDriver(runtime: Runtime): void {
  runtime.trackCauses(); // so output after an await in an entry method still finds its cell
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
      if (out) runtime.send(DRIVER, { t: "output", stream: name, text: out, pe: runtime.self });
      const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof stream.write;
  }
}
