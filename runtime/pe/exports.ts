/** Registers the chare classes and array maps a program module exports (how PEs find them by name). */
import { Chare } from "../core/chare.ts";
import { ArrayMap } from "../core/array-map.ts";
import { registerArrayMap, registerChareClass } from "../core/registry.ts";
import { isPlainFunction, registerTask } from "../pool/tasks.ts";

/** Registers every exported Chare subclass and ArrayMap subclass of a module namespace. */
export function registerModuleExports(ns: Record<string, unknown>): void {
  for (const value of Object.values(ns)) {
    if (typeof value !== "function" || !value.name) continue;
    if (!value.prototype) { registerTask(value as any); continue; } // an exported arrow function
    if (value.prototype instanceof Chare) registerChareClass(value as any);
    else if (value.prototype instanceof ArrayMap) registerArrayMap(value as any);
    else if (isPlainFunction(value)) registerTask(value); // usable as a pool task
  }
}
