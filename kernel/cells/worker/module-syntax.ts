/** Rewrites a cell's module syntax into script syntax that REPL-mode evaluation accepts. */
import ts from "typescript";
import type { Edit } from "./edits.ts";

/** The global the worker installs to load a module resolved from the notebook's folder. */
export const IMPORT_FUNCTION = "__cellImport";
/** The global standing in for `import.meta` (a script has none). */
export const IMPORT_META = "__cellImportMeta";

/**
 * `import x from "m"` becomes `const { default: x } = await __cellImport("m")` on the same line, so
 * the binding persists across cells like any `const`, and ESM-only packages load (a `require`
 * rewrite, as tslab does, cannot load them). `export` keywords are dropped: a cell's declarations
 * are already global.
 */
export function rewriteModuleSyntax(sf: ts.SourceFile): Edit[] {
  const edits: Edit[] = [];
  for (const statement of sf.statements) {
    if (ts.isImportDeclaration(statement)) {
      edits.push({ start: statement.getStart(sf), end: statement.end, text: importToConst(statement) });
    } else if (
      ts.isImportEqualsDeclaration(statement) &&
      ts.isExternalModuleReference(statement.moduleReference) &&
      !statement.isTypeOnly
    ) {
      // `import fs = require("fs")`: the cell's `require` resolves from the notebook's folder too.
      const specifier = statement.moduleReference.expression;
      const text = `const ${statement.name.text} = require(${specifier.getText(sf)});`;
      edits.push({ start: statement.getStart(sf), end: statement.end, text });
    } else if (ts.isExportDeclaration(statement)) {
      edits.push({ start: statement.getStart(sf), end: statement.end, text: ";" });
    } else if (ts.isExportAssignment(statement)) {
      // `export default expr` keeps its value as the cell's value; `0,` keeps `{...}` an expression.
      const text = statement.isExportEquals ? "" : "0,";
      edits.push({ start: statement.getStart(sf), end: statement.expression.getStart(sf), text });
    } else if (ts.canHaveModifiers(statement)) {
      exportModifiers(statement, sf, edits);
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      edits.push({ start: node.expression.getStart(sf), end: node.expression.end, text: IMPORT_FUNCTION });
    } else if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) {
      edits.push({ start: node.getStart(sf), end: node.end, text: IMPORT_META });
    }
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(sf, visit);
  return edits;
}

function exportModifiers(statement: ts.HasModifiers, sf: ts.SourceFile, edits: Edit[]): void {
  const modifiers = ts.getModifiers(statement) ?? [];
  const exported = modifiers.find((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  if (!exported) return;
  const isDefault = modifiers.find((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
  const named = (statement as ts.Node as { name?: ts.Node }).name !== undefined;
  if (isDefault && !named) {
    // An anonymous `export default class {}` is only valid as an expression.
    edits.push({ start: exported.getStart(sf), end: isDefault.end, text: "0," });
    return;
  }
  edits.push({ start: exported.getStart(sf), end: exported.end, text: "" });
  if (isDefault) edits.push({ start: isDefault.getStart(sf), end: isDefault.end, text: "" });
}

function importToConst(node: ts.ImportDeclaration): string {
  const from = `await ${IMPORT_FUNCTION}(${JSON.stringify((node.moduleSpecifier as ts.StringLiteral).text)})`;
  const clause = node.importClause;
  if (!clause) return `${from};`;
  if (clause.isTypeOnly) return ";";
  const named = clause.namedBindings;
  if (named && ts.isNamespaceImport(named)) {
    const defaultPart = clause.name ? `, ${clause.name.text} = ${named.name.text}.default` : "";
    return `const ${named.name.text} = ${from}${defaultPart};`;
  }
  const parts: string[] = [];
  if (clause.name) parts.push(`default: ${clause.name.text}`);
  for (const element of named?.elements ?? []) {
    if (element.isTypeOnly) continue;
    const local = element.name.text;
    const imported = element.propertyName;
    if (!imported) parts.push(local);
    else parts.push(`${ts.isStringLiteral(imported) ? JSON.stringify(imported.text) : imported.text}: ${local}`);
  }
  // Only type-only names: TypeScript would elide the import, and so do we.
  if (parts.length === 0) return named && named.elements.length > 0 ? ";" : `${from};`;
  return `const { ${parts.join(", ")} } = ${from};`;
}
