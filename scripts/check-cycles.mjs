// The import rules of runtime/ and kernel/, checked from the sources with the TypeScript parser:
// no cycle of value imports (a cycle decides module initialisation order by accident), the
// runtime's core imports no presentation code, the runtime never imports the kernel, and the
// kernel reaches the runtime through at most two modules (its public surfaces).
// `node scripts/check-cycles.mjs [--root DIR]` prints what breaks a rule and exits 1; findings
// on the allow-list beside it are known and pass (test/scripts/import-rules.test.ts runs it).
import ts from "typescript";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, relative, resolve, dirname, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder of the runtime's presentation code (display bundles, status, traces, charts). */
export const PRESENTATION = "runtime/presentation/";
/** How many runtime modules the kernel may import (the runtime's two public surfaces). */
export const KERNEL_RUNTIME_MODULES = 2;

/** Every .ts file under `dir` (relative to `root`, with forward slashes). */
function sources(root, dir) {
  const out = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(relative(root, p).split(sep).join("/"));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

/** Whether an import or export declaration brings in no value (so it is erased from the output). */
function typeOnly(node) {
  if (ts.isImportDeclaration(node)) {
    const clause = node.importClause;
    if (!clause) return false; // `import "./x.ts"` runs the module
    if (clause.isTypeOnly) return true;
    if (clause.name) return false;
    const named = clause.namedBindings;
    if (!named || ts.isNamespaceImport(named)) return false;
    return named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
  }
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return !!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
}

/**
 * The relative static imports of one file: `{ to, value }` per import or re-export, `to` relative
 * to `root`. Dynamic `import()` is left out: it loads the module later, in no cycle of load order.
 */
export function importsOf(root, file) {
  const text = readFileSync(join(root, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out = [];
  for (const node of source.statements) {
    if (!ts.isImportDeclaration(node) && !ts.isExportDeclaration(node)) continue;
    const spec = node.moduleSpecifier;
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith(".")) continue;
    const to = relative(root, resolve(root, dirname(file), spec.text)).split(sep).join("/");
    out.push({ to, value: !typeOnly(node) });
  }
  return out;
}

/** The strongly connected components of more than one file (or a file importing itself), each sorted. */
export function cycles(graph) {
  // Tarjan's algorithm, iterative so a deep import chain can't overflow the stack.
  const index = new Map(), low = new Map(), onStack = new Set(), stack = [], found = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [[start, 0]];
    index.set(start, next); low.set(start, next); next++; stack.push(start); onStack.add(start);
    while (work.length) {
      const frame = work[work.length - 1];
      const [v, i] = frame;
      const edges = graph.get(v) ?? [];
      if (i < edges.length) {
        frame[1]++;
        const w = edges[i];
        if (!graph.has(w)) continue;
        if (!index.has(w)) {
          index.set(w, next); low.set(w, next); next++; stack.push(w); onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
        continue;
      }
      work.pop();
      if (work.length) { const u = work[work.length - 1][0]; low.set(u, Math.min(low.get(u), low.get(v))); }
      if (low.get(v) !== index.get(v)) continue;
      const scc = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || edges.includes(v)) found.push(scc.sort());
    }
  }
  return found;
}

/** Every broken rule under `root`, one line each (empty: all rules hold). */
export function findings(root) {
  const files = [...sources(root, "runtime"), ...sources(root, "kernel")];
  const valueGraph = new Map();
  const out = [];
  const kernelUses = new Set();
  for (const file of files) {
    const imports = importsOf(root, file);
    valueGraph.set(file, imports.filter((i) => i.value).map((i) => i.to));
    for (const { to } of imports) {
      if (file.startsWith("runtime/core/") && to.startsWith(PRESENTATION)) out.push(`core imports presentation: ${file} → ${to}`);
      if (file.startsWith("runtime/") && to.startsWith("kernel/")) out.push(`runtime imports kernel: ${file} → ${to}`);
      if (file.startsWith("kernel/") && to.startsWith("runtime/")) kernelUses.add(to);
    }
  }
  for (const scc of cycles(valueGraph)) out.push(`value-import cycle: ${scc.join(" ")}`);
  if (kernelUses.size > KERNEL_RUNTIME_MODULES) out.push(`kernel imports ${kernelUses.size} runtime modules (at most ${KERNEL_RUNTIME_MODULES}): ${[...kernelUses].sort().join(" ")}`);
  return out;
}

/** The findings not on the allow-list, and the allow-list's entries that no longer occur (to remove). */
export function compare(found, allowed) {
  return { broken: found.filter((f) => !allowed.includes(f)), stale: allowed.filter((a) => !found.includes(a)) };
}

/** The allow-list beside this script: findings known when the rules came in, to be emptied. */
export function allowList(root) {
  const file = join(root, "scripts/check-cycles.allow.json");
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : [];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--root");
  const root = at > 0 ? resolve(process.argv[at + 1]) : resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const { broken, stale } = compare(findings(root), allowList(root));
  for (const b of broken) console.log(`broken: ${b}`);
  for (const s of stale) console.log(`fixed (remove from scripts/check-cycles.allow.json): ${s}`);
  if (broken.length || stale.length) process.exit(1);
  console.log("import rules hold");
}
