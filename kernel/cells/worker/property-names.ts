/** Runtime completion: property names of a live value named by a dotted path. */
import type { Evaluator } from "./evaluator.ts";

const PATH = /^[\p{L}_$][\p{L}\p{N}_$]*(\.[\p{L}_$][\p{L}\p{N}_$]*)*$/u;

/**
 * Names for completing `expression.` (or top-level names when `expression` is empty). The path is
 * evaluated with V8's side-effect check, so completion never runs code that changes anything;
 * cell-level `let`/`const` are not on `globalThis`, so they come from the global lexical scope.
 */
export async function propertyNames(expression: string, evaluator: Evaluator): Promise<string[]> {
  const names = new Set<string>();
  if (expression === "") {
    for (const name of await evaluator.globalLexicalNames()) names.add(name);
    addChain(globalThis, names);
  } else if (PATH.test(expression)) {
    const found = await evaluator.peek(expression);
    if (found.ok && found.value !== null && found.value !== undefined) addChain(Object(found.value), names);
  }
  return [...names].sort();
}

function addChain(target: object, names: Set<string>): void {
  for (let o: object | null = target; o; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) if (/^[\p{L}_$]/u.test(name)) names.add(name);
  }
}
