/** Task functions by name: the pool sends a function's name, and every PE finds it here. */
import { CharmError } from "../protocol/errors.ts";

/** A function the pool can run: one argument in, a value (or a promise of one) out. */
export type TaskFn = (arg: any) => unknown;

const tasks = new Map<string, TaskFn>();
/** PEs waiting for a task a notebook is still defining (its definition may be overtaken). */
const waiting = new Map<string, Array<(fn: TaskFn) => void>>();
const safeSetTimeout = setTimeout;

/** Registers a task function under its name (returns the name). */
export function registerTask(fn: TaskFn): string {
  if (!fn.name) throw new CharmError("pool tasks must be named functions (function square(x) { … }); an anonymous function can't be found on other PEs");
  tasks.set(fn.name, fn);
  for (const resolve of waiting.get(fn.name) ?? []) resolve(fn);
  waiting.delete(fn.name);
  return fn.name;
}

/** The task registered under `name`, or a CharmError that says how to make it known. */
export function taskFn(name: string, pe: number): TaskFn {
  const fn = tasks.get(name);
  if (!fn) {
    throw new CharmError(`task function ${name} is not known on PE ${pe}: export it from the program's module, or declare it in a notebook cell (function ${name}(x) { … })`);
  }
  return fn;
}

/** Whether a value is a plain function (not a class), so it can be a task. */
export function isPlainFunction(value: unknown): value is TaskFn {
  return typeof value === "function" && !/^class\b/.test(Function.prototype.toString.call(value));
}

/**
 * The task registered under `name`, waiting up to `ms` for it first: in a notebook a cell's
 * functions reach each PE from the driver, and a task sent by another PE (a nested map) can
 * arrive before them. Still unknown after that: the CharmError of taskFn.
 */
export async function taskFnSoon(name: string, pe: number, ms: number): Promise<TaskFn> {
  const known = tasks.get(name);
  if (known) return known;
  const arrived = await new Promise<TaskFn | undefined>((resolve) => {
    const list = waiting.get(name) ?? [];
    list.push(resolve);
    waiting.set(name, list);
    safeSetTimeout(() => {
      const rest = (waiting.get(name) ?? []).filter((r) => r !== resolve);
      if (rest.length > 0) waiting.set(name, rest); else waiting.delete(name);
      resolve(undefined);
    }, ms);
  });
  return arrived ?? taskFn(name, pe);
}
