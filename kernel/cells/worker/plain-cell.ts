/**
 * Cells that are plain JavaScript and declare, import and register nothing — `charm.numPes()`,
 * `await proxy.method.ret(1)`, `await charm.restart({ numPes: 4 })` — run as they are: nothing to
 * erase, rewrite or ship to the PEs. So they don't wait for TypeScript, which takes a few hundred
 * milliseconds to load when the kernel starts. Every other cell goes through transpile.ts.
 *
 * The test is conservative and textual on purpose (TypeScript's parser is what we'd be waiting
 * for): a word that might start a declaration, a registration or TypeScript-only syntax anywhere,
 * even in a string or comment, sends the cell the usual way; what remains must compile as
 * JavaScript (V8's own parser, as the body of an async function so `await` is allowed).
 */
import vm from "node:vm";

// Declarations, module syntax, registrations that ship to PEs, and TypeScript-only keywords.
const NEEDS_TYPESCRIPT = /\b(?:class|function|const|let|var|import|export|enum|namespace|module|declare|interface|type|abstract|implements|satisfies|as|keyof|readonly|register|serializable|return|yield)\b/;
// A loop around an await goes the usual way: its awaits get the interrupt check (resume-points.ts).
const AWAIT = /\bawait\b/;
const LOOP = /\b(?:for|while|do)\b/;
// `f<T>(x)` is a generic call in TypeScript but a comparison in JavaScript: never guess.
const ANGLE_BRACKETS = /[<>]/;
// Identifiers (and the like, in strings and comments too: a false match only costs a parse).
const WORDS = /[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*/gu;

/**
 * Whether `cell` can run as written, without TypeScript. A cell with a word of `watched` (names the
 * PEs have: `speed = 2` must be reported, kernel/interactive/reassigned.ts) is not plain.
 */
export function isPlainCell(cell: string, watched: ReadonlySet<string> = new Set()): boolean {
  const trimmed = cell.trim();
  if (trimmed === "" || NEEDS_TYPESCRIPT.test(cell) || ANGLE_BRACKETS.test(cell)) return false;
  if (AWAIT.test(cell) && LOOP.test(cell)) return false;
  if (watched.size > 0 && (cell.match(WORDS) ?? []).some((word) => watched.has(word))) return false;
  // `{ a: 1 }` alone is an object in a notebook, a block in a script: transpile.ts decides.
  if (trimmed.startsWith("{")) return false;
  try {
    new vm.Script(`(async () => {\n${cell}\n})`, { filename: "plain-cell-check.js" });
    return true;
  } catch {
    return false; // TypeScript syntax (`x!`, `(a: number) =>`) or an error it will word better
  }
}
