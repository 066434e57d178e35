/** TypeScript cell → JavaScript script for REPL-mode evaluation, keeping the cell's line numbers. */
import ts from "typescript";
import { applyEdits } from "./edits.ts";
import { eraseTypes } from "./erase-types.ts";
import { rewriteModuleSyntax } from "./module-syntax.ts";
import { remapFromSourceMap, type Remap } from "./source-map.ts";
import { isPlainCell } from "./plain-cell.ts";

/** A syntax error at a 1-based line and column of the cell. */
export interface CellDiagnostic {
  line: number;
  column: number;
  message: string;
}

/**
 * Either runnable JavaScript (with a remap when positions moved) or the cell's syntax errors.
 * `plain`: the cell ran as written (plain-cell.ts): it declares nothing, so nothing ships to PEs.
 */
export type TranspiledCell =
  | { ok: true; js: string; remap?: Remap; plain?: true }
  | { ok: false; diagnostics: CellDiagnostic[] };

/**
 * Parses once with TypeScript. The usual path erases types in place (about 0.1 ms, positions
 * unchanged); syntax with runtime meaning (enum, namespace, decorators…) takes TypeScript's full
 * emit, ~10× slower, with a source map so stack traces still name the cell's lines. A cell that
 * names one of `watched` (values the PEs have, which it may assign) is never taken as plain.
 */
export function transpileCell(cell: string, fileName: string, watched: ReadonlySet<string> = new Set()): TranspiledCell {
  const sourceUrl = `\n//# sourceURL=${fileName}`;
  if (isPlainCell(cell, watched)) return { ok: true, js: cell + sourceUrl, plain: true };
  const source = objectLiteralCell(cell) ?? cell;
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const parseDiagnostics = (sf as unknown as { parseDiagnostics: ts.DiagnosticWithLocation[] }).parseDiagnostics;
  if (parseDiagnostics.length > 0) {
    return { ok: false, diagnostics: parseDiagnostics.map((d) => toDiagnostic(sf, d)) };
  }
  const moduleEdits = rewriteModuleSyntax(sf);
  const typeEdits = eraseTypes(sf);
  if (typeEdits) return { ok: true, js: applyEdits(source, [...moduleEdits, ...typeEdits]) + sourceUrl };

  const output = ts.transpileModule(applyEdits(source, moduleEdits), {
    fileName,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      sourceMap: true,
      // Keep TypeScript from treating the cell as a script where top-level await is an error.
      moduleDetection: ts.ModuleDetectionKind.Force,
    },
  });
  const js = output.outputText
    .replace(/^\/\/# sourceMappingURL=.*$/m, "")
    .replace(/^export \{\};\s*$/m, "");
  const map = JSON.parse(output.sourceMapText ?? "{}") as { mappings?: string };
  return { ok: true, js: js + sourceUrl, remap: remapFromSourceMap(map.mappings ?? "") };
}

/**
 * `{ a: 1 }` alone is a block in a script, but in a notebook (as in Node's REPL) people mean the
 * object: a cell that parses as one object literal once parenthesized is taken as that.
 */
function objectLiteralCell(cell: string): string | null {
  const trimmed = cell.trim();
  if (!trimmed.startsWith("{") || !trimmed.endsWith("}")) return null;
  const wrapped = `(${cell})`;
  const sf = ts.createSourceFile("object.ts", wrapped, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const diagnostics = (sf as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics;
  const [statement] = sf.statements;
  const isObject =
    sf.statements.length === 1 &&
    ts.isExpressionStatement(statement) &&
    ts.isParenthesizedExpression(statement.expression) &&
    ts.isObjectLiteralExpression(statement.expression.expression);
  return diagnostics.length === 0 && isObject ? wrapped : null;
}

function toDiagnostic(sf: ts.SourceFile, d: ts.DiagnosticWithLocation): CellDiagnostic {
  const { line, character } = sf.getLineAndCharacterOfPosition(d.start);
  return { line: line + 1, column: character + 1, message: ts.flattenDiagnosticMessageText(d.messageText, "\n") };
}
