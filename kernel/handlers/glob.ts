// The glob of history_request's `search` (IPython's: `*` any run, `?` any one character, all
// else literal, matched against the whole input). Matched by hand rather than through a RegExp:
// a backtracking RegExp built from `*a*a*…*b` takes exponential time, and the pattern comes from
// the wire. This two-pointer walk only ever returns to the latest `*`, so it does at most
// pattern × text steps.

/** Whether `text` matches the glob `pattern` in full, in O(pattern · text) time at worst. */
export function globMatch(pattern: string, text: string): boolean {
  // Code points, so `?` stands for one character even outside the BMP (an emoji is one `?`).
  const p = [...pattern];
  const t = [...text];
  let pi = 0;
  let ti = 0;
  // The latest `*` seen and the text position it is currently assumed to stretch to.
  let star = -1;
  let stretch = 0;
  while (ti < t.length) {
    if (pi < p.length && p[pi] === "*") {
      // Try the star as empty first; widen it one character at a time on later mismatches.
      star = pi++;
      stretch = ti;
    } else if (pi < p.length && (p[pi] === "?" || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (star >= 0) {
      // An earlier star can't do better than the latest one: any match through it is also a
      // match with the latest star widened, so only the latest is ever revisited.
      pi = star + 1;
      ti = ++stretch;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === "*") pi++;
  return pi === p.length;
}
