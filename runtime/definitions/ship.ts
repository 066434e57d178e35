/** The driver's side of interactive definitions: the log, and shipping each script to every PE. */
import { describeUpgrades, type UpgradeNote } from "./new-fields.ts";
import { Future } from "../core/future.ts";
import { maybeRt } from "../core/current.ts";
import { ANY_PE } from "../core/failure.ts";
import { PeLostError } from "../protocol/errors.ts";
import { runBeforeSend } from "../core/send-hook.ts";
import { REGISTER, registerDefinitions } from "./evaluate.ts";

/** The log: each script, with the key it was defined under (`replaces`). */
const log: Array<{ code: string; key?: string }> = [];
// The driver runs the same trailer when it evaluates a cell, so it registers the same values.
(globalThis as Record<string, unknown>)[REGISTER] ??= registerDefinitions;

/** Every definition script so far, in order (handed to PEs when they start). */
export function definitionLog(): string[] {
  return log.map((entry) => entry.code);
}

/** Forgets the log (a fresh interactive session). */
export function clearDefinitions(): void {
  log.length = 0;
}

/** How a definition enters the log. */
export interface DefineOptions {
  /**
   * A key for the script: if the log's last script has the same key, this one takes its place, so
   * PEs started later evaluate only the newer. (A notebook setting one value again and again,
   * `speed = 2` then `speed = 3`, keeps one entry; anything defined in between keeps both, since
   * it may have read the older value.)
   */
  replaces?: string;
}

/**
 * Ships a definition script to every running PE (and to PEs started later). Resolves once
 * every PE has evaluated it — with what to tell the user when it redefined a class whose live
 * chares got new fields (new-fields.ts), else undefined; rejects with the first PE's error (e.g.
 * a ReferenceError for a name that exists only on the driver).
 */
export async function define(code: string, options: DefineOptions = {}): Promise<string | undefined> {
  // What a host armed for the next send may be a definition too: it enters the log first, as it
  // reaches the PEs first, so PEs started later replay them in the order the others saw.
  runBeforeSend();
  const key = options.replaces;
  if (key !== undefined && log.at(-1)?.key === key) log.pop();
  const entry = { code, key };
  log.push(entry);
  const runtime = maybeRt();
  if (!runtime) return undefined;
  // A dead PE would never answer: the live ones get it (a restart replays the log to all).
  const live = Array.from({ length: runtime.numPes }, (_, pe) => pe).filter((pe) => !runtime.failures.dead.has(pe));
  if (live.length === 0) return undefined;
  const done = new Future<unknown[]>(live.length);
  const state = runtime.futures.get(done.id)!;
  state.label = "declarations reaching every PE";
  state.internal = true; // the runtime's, not a call of the program's: not listed as one a cell waits for
  state.on = ANY_PE; // a PE that dies meanwhile rejects it instead of leaving it pending
  // A keyed script sets a value (`speed = 2`): plain global code, which a PE runs in ~10 µs where
  // an inspector evaluation takes ~70 µs (a steering loop sets one every step).
  const plain = key !== undefined ? 1 : undefined;
  for (const pe of live) runtime.send(pe, { t: "define", code, fid: done.id, plain });
  try {
    const answers = await done; // one PE's answer alone, several PEs' as a list
    return describeUpgrades((live.length === 1 ? [answers] : answers) as Array<UpgradeNote[] | null>);
  } catch (err) {
    // The death is reported on its own; the script is a good definition for every other PE.
    if (err instanceof PeLostError) return undefined;
    // A script that failed is not a definition: PEs started later must not replay it.
    const at = log.lastIndexOf(entry);
    if (at >= 0) log.splice(at, 1);
    throw err;
  }
}
