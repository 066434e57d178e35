/** The runtime of this thread, once started. Kept apart so every module can reach it without cycles. */
import { CharmError } from "../protocol/errors.ts";
import type { Runtime } from "./runtime.ts";

let current: Runtime | undefined;
let generation = 0;

/** This thread's runtime; throws a CharmError that says how to start one. */
export function rt(): Runtime {
  if (current === undefined) {
    throw new CharmError(
      "the charm4ts runtime hasn't started on this thread: call charm.start(main) first " +
      "(scripts: run them with `npx charmrun +p2 prog.ts`), or await it before using proxies and futures",
    );
  }
  return current;
}

/** This thread's runtime, or undefined before start / after shutdown. */
export function maybeRt(): Runtime | undefined {
  return current;
}

/** Installs (or clears) this thread's runtime. */
export function setRuntime(runtime: Runtime | undefined): void {
  current = runtime;
  generation++;
}

/** Changes whenever the runtime is replaced: ids from an earlier runtime mean nothing now. */
export function runtimeGeneration(): number {
  return generation;
}
