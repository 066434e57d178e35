/**
 * Code defined interactively (notebook cells) that PEs need too: chare classes, the helper
 * classes, functions and constants they use. The driver keeps an ordered log of definition
 * scripts and ships each to every PE, where it runs in V8's REPL mode (so a class may be
 * declared again) with the runtime's names (`charm`, `Chare`, …) in scope. PEs started later
 * replay the whole log before they report ready.
 *
 * A definition script ends by handing its declared values to `REGISTER`: chare classes and
 * array maps are registered by name; any other class becomes serializable by name, so its
 * instances can cross PEs. A chare class defined again upgrades the live chares of that
 * class on each PE in place: they keep their fields and get the new methods.
 */
import { Session } from "node:inspector";
import { registerArrayMap, registerChareClass, findChareClass } from "../core/registry.ts";
import { registerSerializable } from "../protocol/codec.ts";
import { unsendableBuiltin } from "../protocol/unsendable.ts";
import { Chare } from "../core/chare.ts";
import { ArrayMap } from "../core/array-map.ts";
import { forgetMethods } from "../core/entry-methods.ts";
import { maybeRt } from "../core/current.ts";
import { isPlainFunction, registerTask } from "../pool/tasks.ts";
import { FIELDS, fillNewFields, noteFields } from "./new-fields.ts";

/** The global a definition script calls with the values it declared. */
export const REGISTER = "__charm4tsDefine";

/** Registers interactively defined values; upgrades live chares of a redefined class. */
export function registerDefinitions(values: unknown[]): void {
  const host = maybeRt()?.runner;
  for (const value of values) {
    if (typeof value !== "function" || !value.name) continue;
    if (isPlainFunction(value)) { registerTask(value); continue; } // usable as a pool task
    if (value.prototype instanceof Chare) {
      const previous = findChareClass(value.name);
      registerChareClass(value as any);
      if (previous && previous !== value) upgradeLiveChares(previous, value);
    } else if (value.prototype instanceof ArrayMap) {
      registerArrayMap(value as any);
    } else if (/^class\b/.test(Function.prototype.toString.call(value)) && !unsendableBuiltin(value, true)) {
      // A class extending WeakMap, Promise, … can't be made sendable: it stays unregistered, and a send says why.
      registerSerializable(value);
    }
  }
  host?.retryHeld();
}

function upgradeLiveChares(previous: Function, next: Function): void {
  const runtime = maybeRt();
  if (!runtime) return;
  forgetMethods(previous as any);
  const upgraded: object[] = [];
  for (const coll of runtime.runner.byId.values()) {
    for (const record of coll.elements.values()) {
      const chare = record.chare;
      if (chare && chare.constructor === previous) {
        Object.setPrototypeOf(chare, next.prototype);
        upgraded.push(chare);
      }
    }
  }
  fillNewFields(next, upgraded);
}

/** Evaluates definition scripts on this thread in REPL mode, with the given names in scope. */
export class DefinitionEvaluator {
  private session: Session | undefined;

  constructor(private readonly scope: Record<string, unknown>) {}

  /** Runs global code that declares nothing (it may set the REPL scripts' top-level bindings); settles at once. */
  runPlain(code: string): Promise<void> {
    try {
      (0, eval)(code); // indirect: global scope, where the REPL scripts' `let`s and `const`s live
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Runs one script and resolves when the inspector has answered; rejects with the script's
   * exception. The evaluation itself happens synchronously inside post(), so the classes exist
   * before the next message is handled; only the answer comes a moment later.
   */
  run(code: string): Promise<void> {
    if (!this.session) {
      this.session = new Session();
      this.session.connect();
      Object.assign(globalThis, this.scope, { [REGISTER]: registerDefinitions, [FIELDS]: noteFields });
    }
    return new Promise((resolve, reject) => {
      this.session!.post("Runtime.evaluate", { expression: code, replMode: true }, (error, result: any) => {
        if (error) reject(error);
        else if (result?.exceptionDetails) reject(new Error(result.exceptionDetails.exception?.description ?? result.exceptionDetails.text));
        else resolve();
      });
    });
  }
}
