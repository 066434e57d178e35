/** TypeScript cell → JavaScript script for REPL-mode evaluation, keeping the cell's line numbers. */
import ts from "typescript";
import { applyEdits } from "./edits.ts";
import { eraseTypes } from "./erase-types.ts";
import { rewriteModuleSyntax } from "./module-syntax.ts";
import { remapFromSourceMap, type Remap } from "./source-map.ts";

/** A syntax error at a 1-based line and column of the cell. */
export interface CellDiagnostic {
  line: number;
  column: number;
  message: string;
}

/** Either runnable JavaScript (with a remap when positions moved) or the cell's syntax errors. */
export type TranspiledCell =
  | { ok: true; js: string; remap?: Remap }
  | { ok: false; diagnostics: CellDiagnostic[] };

/**
 * Parses once with TypeScript. The usual path erases types in place (about 0.1 ms, positions
 * unchanged); syntax with runtime meaning (enum, namespace, decorators…) takes TypeScript's full
 * emit, ~10× slower, with a source map so stack traces still name the cell's lines.
 */
export function transpileCell(source: string, fileName: string): TranspiledCell {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const parseDiagnostics = (sf as unknown as { parseDiagnostics: ts.DiagnosticWithLocation[] }).parseDiagnostics;
  if (parseDiagnostics.length > 0) {
    return { ok: false, diagnostics: parseDiagnostics.map((d) => toDiagnostic(sf, d)) };
  }
  const moduleEdits = rewriteModuleSyntax(sf);
  const typeEdits = eraseTypes(sf);
  const sourceUrl = `\n//# sourceURL=${fileName}`;
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

function toDiagnostic(sf: ts.SourceFile, d: ts.DiagnosticWithLocation): CellDiagnostic {
  const { line, character } = sf.getLineAndCharacterOfPosition(d.start);
  return { line: line + 1, column: character + 1, message: ts.flattenDiagnosticMessageText(d.messageText, "\n") };
}
