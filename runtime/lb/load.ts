/**
 * Measures each element's load: the time spent running its entry methods, including the parts
 * of `async` entry methods that run after an `await` (a particle cell does its work after its
 * channels deliver). The synchronous part is timed around the call; continuations are timed
 * with V8's promise hooks, which see every promise job: a promise made while an element runs
 * belongs to that element, and so does the time its reactions take. The hooks are installed
 * only on PEs that host arrays opting into load balancing.
 */
import { promiseHooks } from "node:v8";
import type { ElementRecord } from "../core/chare.ts";

let running: ElementRecord | undefined;
let started = 0;
let installed = false;
// The element a promise belongs to, kept on the promise itself: a WeakMap entry per promise made
// every await measurably slower (ephemeron bookkeeping in each garbage collection).
const OWNER = Symbol("charm4ts.loadOwner");
type Owned = Promise<unknown> & { [OWNER]?: ElementRecord };
// What ran around a promise job, restored after it (two stacks: no tuple allocated per job).
const outerRecords: Array<ElementRecord | undefined> = [];
const outerStarts: number[] = [];
const now = performance.now.bind(performance);

function install(): void {
  if (installed) return;
  installed = true;
  promiseHooks.onInit((promise, parent) => {
    const owner = running ?? (parent as Owned | undefined)?.[OWNER];
    if (owner) (promise as Owned)[OWNER] = owner;
  });
  promiseHooks.onBefore((promise) => {
    outerRecords.push(running);
    outerStarts.push(started);
    running = (promise as Owned)[OWNER];
    if (running) started = now(); // jobs that belong to no element cost no clock reads
  });
  promiseHooks.onAfter(() => {
    if (running) running.load! += now() - started;
    running = outerRecords.pop();
    started = outerStarts.pop() ?? 0;
  });
}

/** Runs `call` as `record`'s work (a record of an array that opted in: its load is a number), adding its time (and its continuations' later) to the record's load. */
export function measured<T>(record: ElementRecord, call: () => T): T {
  install();
  const prior = running;
  if (prior) prior.load! += now() - started; // whatever runs around us is timed up to here
  running = record;
  started = now();
  try {
    return call();
  } finally {
    const end = now();
    record.load! += end - started;
    running = prior;
    started = end;
  }
}
