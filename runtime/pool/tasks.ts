/** Task functions by name: the pool sends a function's name, and every PE finds it here. */
import { CharmError } from "../protocol/errors.ts";

/** A function the pool can run: one argument in, a value (or a promise of one) out. */
export type TaskFn = (arg: any) => unknown;

const tasks = new Map<string, TaskFn>();

/** Registers a task function under its name (returns the name). */
export function registerTask(fn: TaskFn): string {
  if (!fn.name) throw new CharmError("pool tasks must be named functions (function square(x) { … }); an anonymous function can't be found on other PEs");
  tasks.set(fn.name, fn);
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
