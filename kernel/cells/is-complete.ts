/** Jupyter `is_complete` for TypeScript, by a small scanner: no parser load, no child process. */

/** `indent` is only ever present with `incomplete`: frontends read it as "continue the line". */
export type IsCompleteResult = { status: "complete" | "invalid" } | { status: "incomplete"; indent: string };

const CLOSERS: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
// A line ending in one of these continues on the next (`a +`, `x =>`, `foo,`).
const CONTINUES = /(?:[-+*/%=&|^<>!?:,.(\[{]|=>|\b(?:const|let|var|return|new|typeof|await|in|of|extends|else|do))$/;

/**
 * Tracks brackets, strings, template literals (with `${}` nesting) and comments. A mismatched
 * closer (`f(]`) is invalid; an open bracket, string, template or comment, or a trailing
 * operator, is incomplete; otherwise complete (the evaluator reports other syntax errors).
 */
export function isComplete(code: string): IsCompleteResult {
  const stack: string[] = []; // "(", "[", "{", "`" (template) or "${" (substitution)
  let i = 0;
  const n = code.length;
  let inTemplate = false;
  while (i < n) {
    const c = code[i];
    if (inTemplate) {
      if (c === "\\") i += 2;
      else if (c === "`") {
        inTemplate = false;
        stack.pop();
        i++;
      } else if (c === "$" && code[i + 1] === "{") {
        stack.push("${");
        inTemplate = false;
        i += 2;
      } else i++;
      continue;
    }
    if (c === "/" && code[i + 1] === "/") {
      while (i < n && code[i] !== "\n") i++;
    } else if (c === "/" && code[i + 1] === "*") {
      const end = code.indexOf("*/", i + 2);
      if (end < 0) return incomplete(code, stack);
      i = end + 2;
    } else if (c === "/" && startsRegex(code, i)) {
      // A regex literal may hold brackets and quotes (`/[(']/`): skip it whole, classes included.
      i++;
      let inClass = false;
      while (i < n && code[i] !== "\n" && (inClass || code[i] !== "/")) {
        if (code[i] === "\\") i++;
        else if (code[i] === "[") inClass = true;
        else if (code[i] === "]") inClass = false;
        i++;
      }
      if (i >= n || code[i] === "\n") return { status: "invalid" };
      i++;
    } else if (c === '"' || c === "'") {
      i++;
      while (i < n && code[i] !== c && code[i] !== "\n") i += code[i] === "\\" ? 2 : 1;
      if (i >= n) return incomplete(code, stack);
      if (code[i] === "\n") return { status: "invalid" };
      i++;
    } else if (c === "`") {
      stack.push("`");
      inTemplate = true;
      i++;
    } else if (c === "(" || c === "[" || c === "{") {
      stack.push(c);
      i++;
    } else if (c === ")" || c === "]" || c === "}") {
      const open = stack.pop();
      if (c === "}" && open === "${") inTemplate = true;
      else if (open !== CLOSERS[c]) return { status: "invalid" };
      i++;
    } else i++;
  }
  if (inTemplate || stack.length > 0) return incomplete(code, stack);
  const lastLine = code.replace(/\/\/[^\n]*$/, "").trimEnd();
  if (lastLine !== "" && CONTINUES.test(lastLine) && !/\+\+$|--$/.test(lastLine)) return incomplete(code, stack);
  return { status: "complete" };
}

/** A `/` starts a regex (not a division) after an operator, an opening bracket, or at the start. */
function startsRegex(code: string, slash: number): boolean {
  const before = code.slice(0, slash).trimEnd();
  if (before === "") return true;
  if (/\b(?:return|typeof|case|do|else|in|of|yield|await|void|delete|throw|new)$/.test(before)) return true;
  return /[-+*%=&|^<>!?:,;([{}~]$/.test(before);
}

function incomplete(code: string, stack: string[]): IsCompleteResult {
  const lines = code.split("\n");
  const last = [...lines].reverse().find((line) => line.trim() !== "") ?? "";
  const current = /^\s*/.exec(last)?.[0] ?? "";
  // One more level after an opening bracket at the end of the line, as editors do.
  const opens = /[([{]\s*$/.test(last) || stack.length > 0 && /[([{]\s*$/.test(last);
  return { status: "incomplete", indent: opens ? `${current}  ` : current };
}
