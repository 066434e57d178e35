/** Values as error messages show them. */

// Long enough for a list of hosts or modules, short enough for one line of an error.
const MOST_CHARS = 80;

/**
 * A value as an error message shows it: as code would write it, with its type where the text
 * alone could pass for another type (`got "3" (a string)`, not `got 3` for `{ numPes: "3" }`).
 */
export function shown(value: unknown): string {
  switch (typeof value) {
    case "number": return String(value);
    case "string": return `${clipped(JSON.stringify(value))} (a string)`;
    case "boolean": return `${value} (a boolean)`;
    case "bigint": return `${value}n (a bigint)`;
    case "symbol": return `${String(value)} (a symbol)`;
    case "function": return value.name ? `a function (${value.name})` : "a function";
    default: return value === null || value === undefined ? String(value) : `${clipped(json(value))} (${Array.isArray(value) ? "an array" : "an object"})`;
  }
}

function json(value: object): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value); // cyclic, or holds a bigint
  }
}

function clipped(text: string): string {
  return text.length <= MOST_CHARS ? text : `${text.slice(0, MOST_CHARS - 1)}…`;
}
