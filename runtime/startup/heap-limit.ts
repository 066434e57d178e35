/**
 * Bounding each PE's JavaScript heap, and saying so when a PE dies of it. A PE thread gets the
 * limit as its Worker's `resourceLimits` (Node ends only that thread, ERR_WORKER_OUT_OF_MEMORY);
 * a PE process gets `--max-old-space-size` (V8 aborts the process: SIGABRT). Either way the
 * PE is then dead like any other (core/failure.ts); these texts are what PeLostError says.
 */
import type { ResourceLimits } from "node:worker_threads";
import { CharmError } from "../protocol/errors.ts";
import { shown } from "../protocol/shown.ts";

/** The environment variable that bounds every PE's heap when `peMaxHeapMb` isn't given. */
export const MAX_HEAP_ENV = "CHARM4TS_PE_MAX_HEAP_MB";

// Below this V8 can't even load a program; the check saves a confusing failure at start-up.
const SMALLEST_MB = 16;

/** The heap limit in MB from the option, else CHARM4TS_PE_MAX_HEAP_MB; undefined: Node's default. */
export function maxHeapFrom(option: number | undefined, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const fromEnv = env[MAX_HEAP_ENV];
  const mb = option ?? (fromEnv === undefined || fromEnv === "" ? undefined : Number(fromEnv));
  if (mb === undefined) return undefined;
  if (typeof mb !== "number" || !Number.isInteger(mb) || mb < SMALLEST_MB) {
    const given = option !== undefined ? `peMaxHeapMb is ${shown(option)}` : `${MAX_HEAP_ENV}=${fromEnv}`;
    throw new CharmError(`${given}: the PE heap limit must be a whole number of megabytes, at least ${SMALLEST_MB} (leave it unset for Node's default)`);
  }
  return mb;
}

/** A PE thread's Worker limits (none: Node's default, which also ends a worker at its heap limit). */
export function workerLimits(maxHeapMb: number | undefined): ResourceLimits | undefined {
  return maxHeapMb === undefined ? undefined : { maxOldGenerationSizeMb: maxHeapMb };
}

/** A PE process's Node flags. */
export function processFlags(maxHeapMb: number | undefined): string[] {
  return maxHeapMb === undefined ? [] : [`--max-old-space-size=${maxHeapMb}`];
}

/** Why a PE thread died when its Worker's error is Node's out-of-memory one; undefined otherwise. */
export function threadOutOfMemory(err: Error & { code?: string }, maxHeapMb: number | undefined): string | undefined {
  if (err.code !== "ERR_WORKER_OUT_OF_MEMORY") return undefined;
  return `ran out of memory (${limitText(maxHeapMb)}; Node: ${err.message})`;
}

/**
 * Why a PE process ended, from its exit. V8 ends a process over its heap limit with abort(), so
 * SIGABRT under a limit is taken for that (Node printed "JavaScript heap out of memory" on the
 * PE's stderr); without a limit it is left as the bare signal.
 */
export function processDeath(code: number | null, signal: NodeJS.Signals | null, maxHeapMb: number | undefined): string {
  if (signal === "SIGABRT" && maxHeapMb !== undefined) return `ran out of memory, it seems (${limitText(maxHeapMb)}), and was killed by SIGABRT`;
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

function limitText(maxHeapMb: number | undefined): string {
  return maxHeapMb === undefined ? "at Node's default heap limit; peMaxHeapMb sets another" : `heap limit ${maxHeapMb} MB, peMaxHeapMb`;
}
