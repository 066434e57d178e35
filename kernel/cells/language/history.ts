/** The notebook as TypeScript sees it: earlier cells minus the declarations later cells replaced. */
import ts from "typescript";

const parsed = new Map<string, { statements: Array<{ text: string; names: string[] }> }>();

/** Top-level statements of a cell with the names each declares (cached: history cells repeat). */
function statementsOf(cell: string): Array<{ text: string; names: string[] }> {
  let entry = parsed.get(cell);
  if (!entry) {
    const sf = ts.createSourceFile("cell.ts", cell, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    entry = { statements: sf.statements.map((s) => ({ text: cell.slice(s.getFullStart(), s.end), names: declaredNames(s) })) };
    if (parsed.size > 1000) parsed.clear();
    parsed.set(cell, entry);
  }
  return entry.statements;
}

/**
 * Re-running `let s = 1` as `let s = "x"` is normal in a notebook, but one TypeScript file with
 * both reports "Cannot redeclare" and types `s` by the first. So a statement of an earlier cell is
 * left out when a later cell (or the current one) declares one of its names again.
 * A cell run again unchanged is kept only where it ran last: its later copy declares and assigns
 * the same, and a cell re-run in a loop then leaves the notebook's text (and its check) as it was.
 */
export function historyText(history: readonly string[], current: string): string {
  const later = new Set(statementsOf(current).flatMap((s) => s.names));
  const seen = new Set([current]);
  const kept: string[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    if (seen.has(history[i])) continue;
    seen.add(history[i]);
    const statements = statementsOf(history[i]);
    const cell = statements.filter((s) => !s.names.some((n) => later.has(n))).map((s) => s.text);
    for (const s of statements) for (const n of s.names) later.add(n);
    // `;` between cells: a cell ending without one must not run into the next.
    kept.push(`${cell.join("")}\n;\n`);
  }
  return kept.reverse().join("");
}

function declaredNames(statement: ts.Statement): string[] {
  if (ts.isVariableStatement(statement)) {
    return statement.declarationList.declarations.flatMap((d) => bindingNames(d.name));
  }
  if (ts.isImportDeclaration(statement)) {
    const clause = statement.importClause;
    const names = clause?.name ? [clause.name.text] : [];
    const bindings = clause?.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) names.push(bindings.name.text);
    else if (bindings) names.push(...bindings.elements.map((e) => e.name.text));
    return names;
  }
  const name = (statement as { name?: ts.Node }).name;
  return name && ts.isIdentifier(name) ? [name.text] : [];
}

function bindingNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  return name.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : bindingNames(e.name)));
}
