/** Options objects checked for names a call doesn't take: a misspelt option (`onPE`) is said to be one, not ignored. */
import { CharmError } from "../protocol/errors.ts";

/** The first key of `options` that isn't in `names`, if any. */
export function unknownOption(options: object, names: readonly string[]): string | undefined {
  for (const name in options) if (!names.includes(name)) return name;
  return undefined;
}

/** The error for option `name`, naming the one meant if only its case differs; `whoTakes` ends it: "charm.group(X, options) takes". */
export function unknownOptionError(name: string, names: readonly string[], whoTakes: string): CharmError {
  const meant = names.find((known) => known.toLowerCase() === name.toLowerCase());
  return new CharmError(`unknown option ${name}${meant ? ` (did you mean ${meant}?)` : ""}; ${whoTakes}: ${names.join(", ")}`);
}
