/** Reading what a class declares from its source text (Function.prototype.toString). */

/**
 * The first group of `member` (a sticky regex) matched at each place in a class's source where
 * a member can start at the class body's top level: after `{`, `}`, `;` or a line end at depth
 * one. String contents aren't parsed: a brace in one may hide a member.
 */
export function topLevelMatches(source: string, member: RegExp): string[] {
  const out: string[] = [];
  let depth = 0;
  for (let i = source.indexOf("{"); i >= 0 && i < source.length; i++) {
    const ch = source[i];
    if (ch === "{") depth++;
    else if (ch === "}") depth--;
    if (depth !== 1 || (ch !== "{" && ch !== "}" && ch !== ";" && ch !== "\n")) continue;
    member.lastIndex = i + 1;
    const m = member.exec(source);
    if (m) out.push(m[1]!);
  }
  return out;
}
