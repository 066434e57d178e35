/** Type erasure that keeps every character's position: TypeScript-only syntax is overwritten with spaces. */
import ts from "typescript";
import type { Edit } from "./edits.ts";

/**
 * Blanks the type syntax of `sf` in place (no source map needed: a cell's line and column are the
 * JavaScript's). Returns null when the cell uses syntax that has runtime semantics (enum, namespace,
 * parameter properties, decorators, `<T>x` assertions): the caller then falls back to a real emit.
 */
export function eraseTypes(sf: ts.SourceFile): Edit[] | null {
  const edits: Edit[] = [];
  let supported = true;
  const blank = (start: number, end: number, statement = false): void => {
    // A blanked statement becomes `;` + spaces so ASI can't glue its neighbours together.
    edits.push({ start, end, text: statement ? ";" : "" });
  };
  const blankNode = (node: ts.Node, statement = false): void => blank(node.getStart(sf), node.end, statement);
  const blankList = (list: ts.NodeArray<ts.Node> | undefined): void => {
    // A type parameter/argument list's pos/end exclude its angle brackets.
    if (list) blank(list.pos - 1, list.end + 1);
  };
  const blankType = (type: ts.TypeNode | undefined): void => {
    // The node's full start is right after its `:`, so `pos - 1` is the colon.
    if (type) blank(type.pos - 1, type.end);
  };
  const blankToken = (token: ts.Node | undefined): void => {
    if (token) blankNode(token);
  };

  const visit = (node: ts.Node): void => {
    // Types nested in already-blanked ranges need no edits of their own.
    if (!supported || (ts.isTypeNode(node) && !ts.isExpressionWithTypeArguments(node))) return;
    switch (node.kind) {
      case ts.SyntaxKind.InterfaceDeclaration:
      case ts.SyntaxKind.TypeAliasDeclaration:
      case ts.SyntaxKind.IndexSignature:
        return blankNode(node, true);
      case ts.SyntaxKind.ImportEqualsDeclaration:
        // `import x = require("m")` is rewritten by module-syntax.ts; `import x = N.y` needs the emit.
        if (!ts.isExternalModuleReference((node as ts.ImportEqualsDeclaration).moduleReference)) supported = false;
        return;
      case ts.SyntaxKind.EnumDeclaration:
      case ts.SyntaxKind.ModuleDeclaration:
      case ts.SyntaxKind.Decorator:
      case ts.SyntaxKind.TypeAssertionExpression:
      case ts.SyntaxKind.JsxElement:
      case ts.SyntaxKind.JsxSelfClosingElement:
      case ts.SyntaxKind.JsxFragment:
        if (hasDeclare(node)) return blankNode(node, true);
        supported = false;
        return;
      case ts.SyntaxKind.AsExpression:
      case ts.SyntaxKind.SatisfiesExpression:
      case ts.SyntaxKind.NonNullExpression: {
        const inner = (node as ts.AsExpression | ts.NonNullExpression).expression;
        blank(inner.end, node.end);
        return visit(inner);
      }
      case ts.SyntaxKind.ExpressionWithTypeArguments:
        blankList((node as ts.ExpressionWithTypeArguments).typeArguments);
        return visit((node as ts.ExpressionWithTypeArguments).expression);
      case ts.SyntaxKind.HeritageClause:
        if ((node as ts.HeritageClause).token === ts.SyntaxKind.ImplementsKeyword) return blankNode(node);
        break;
      case ts.SyntaxKind.Parameter: {
        const p = node as ts.ParameterDeclaration;
        if (p.modifiers?.some(isTsModifier) || (ts.isIdentifier(p.name) && p.name.text === "this")) {
          supported = false;
          return;
        }
        blankToken(p.questionToken);
        blankType(p.type);
        if (p.initializer) visit(p.initializer);
        return visit(p.name);
      }
    }
    if (ts.isFunctionLike(node)) {
      const fn = node as ts.SignatureDeclaration & { body?: ts.Node };
      // Overloads and abstract methods have no body: erase the whole signature.
      if (!fn.body && !ts.isFunctionTypeNode(node) && node.kind !== ts.SyntaxKind.CallSignature) {
        return blankNode(node, true);
      }
      // A return type that spans lines would leave a line break before `=>`: let the real emit do it.
      if (ts.isArrowFunction(node) && fn.type && sf.text.slice(fn.type.pos, fn.type.end).includes("\n")) {
        supported = false;
        return;
      }
      blankList(fn.typeParameters);
      blankType(fn.type);
    }
    if (ts.isClassLike(node)) blankList(node.typeParameters);
    if (ts.isCallExpression(node) || ts.isNewExpression(node) || ts.isTaggedTemplateExpression(node)) {
      blankList(node.typeArguments);
    }
    if (ts.isPropertyDeclaration(node)) {
      if (hasDeclare(node) || node.modifiers?.some((m) => m.kind === ts.SyntaxKind.AbstractKeyword)) {
        return blankNode(node, true);
      }
      blankToken(node.questionToken ?? node.exclamationToken);
      blankType(node.type);
    }
    if (ts.isVariableDeclaration(node)) {
      if (hasDeclare(node.parent.parent)) return blankNode(node.parent.parent, true);
      blankToken(node.exclamationToken);
      blankType(node.type);
    }
    if (ts.isFunctionDeclaration(node) && hasDeclare(node)) return blankNode(node, true);
    if (ts.isClassDeclaration(node) && hasDeclare(node)) return blankNode(node, true);
    if (ts.canHaveModifiers(node)) {
      for (const m of ts.getModifiers(node) ?? []) if (isTsModifier(m)) blankNode(m);
    }
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(sf, visit);
  return supported ? edits : null;
}

// Made on first use, not at load: the cell worker loads TypeScript only when a cell needs it.
let tsModifiers: Set<ts.SyntaxKind> | undefined;

function isTsModifier(m: ts.ModifierLike): boolean {
  tsModifiers ??= new Set([
    ts.SyntaxKind.PublicKeyword,
    ts.SyntaxKind.PrivateKeyword,
    ts.SyntaxKind.ProtectedKeyword,
    ts.SyntaxKind.ReadonlyKeyword,
    ts.SyntaxKind.OverrideKeyword,
    ts.SyntaxKind.AbstractKeyword,
    ts.SyntaxKind.DeclareKeyword,
  ]);
  return tsModifiers.has(m.kind);
}

function hasDeclare(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DeclareKeyword);
}
