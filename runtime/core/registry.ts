/**
 * Chare classes and array maps by name. Every PE loads the program's modules and registers the
 * classes they export; a proxy or creation message names its class, and the receiving PE
 * finds it here. Redefinition (a later cell, a reloaded module) replaces the entry.
 */
import { CharmError } from "../protocol/errors.ts";

/** Any chare class: constructible, with entry methods on its prototype. */
export type ChareClass = abstract new (...args: any[]) => object;

const classes = new Map<string, ChareClass>();
const maps = new Map<string, new () => { procNum(index: readonly number[], numPes: number, dims?: readonly number[]): number }>();

/** Registers a chare class under its name (returns the name). */
export function registerChareClass(cls: ChareClass): string {
  const name = cls.name;
  if (!name) throw new CharmError("chare classes need a name (class Foo extends Chare { … }); anonymous classes can't be found on other PEs");
  classes.set(name, cls);
  return name;
}

/** The chare class registered under `name`, or a CharmError that says how to make it known. */
export function chareClass(name: string, pe: number, notebook = false): ChareClass {
  const cls = classes.get(name);
  if (!cls && notebook) {
    throw new CharmError(
      `chare class ${name} is not known on PE ${pe}. In a notebook, PEs get the chare classes a cell declares at its top level ` +
      `(class ${name} extends Chare { … }); a class written inside an expression or a function stays on the driver. Declare it at a cell's top level and run that cell.`,
    );
  }
  if (!cls) {
    throw new CharmError(
      `chare class ${name} is not known on PE ${pe}. PEs find chare classes among the exports of the ` +
      `program's module: export class ${name} from it (or from a module it lists in charm.start's "modules").`,
    );
  }
  return cls;
}

/** The class registered under `name`, if any (no error). */
export function findChareClass(name: string): ChareClass | undefined {
  return classes.get(name);
}

/** Registers an array map class (placement policy) under its name. */
export function registerArrayMap(cls: new () => { procNum(index: readonly number[], numPes: number, dims?: readonly number[]): number }): string {
  maps.set(cls.name, cls);
  return cls.name;
}

const mapInstances = new Map<string, { procNum(index: readonly number[], numPes: number, dims?: readonly number[]): number }>();

/** The instance of a registered array map, made once per PE. */
export function arrayMap(name: string, pe: number) {
  let inst = mapInstances.get(name);
  const cls = maps.get(name);
  if (!cls) throw new CharmError(`array map ${name} is not known on PE ${pe}; export it from the program's module`);
  if (!inst || inst.constructor !== cls) {
    inst = new cls();
    mapInstances.set(name, inst);
  }
  return inst;
}
