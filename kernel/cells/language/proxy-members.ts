/**
 * Completion after a dot on a charm4ts proxy offers what can be called there: on a proxy, its
 * entry methods (plus `at`/`slice` on collections), not the chare's fields (typed `never` on the
 * proxy, since calling them fails "has no entry method"); on `proxy.method.`, `ret` and
 * `awaitable`, not what every function has (`apply`, `bind`, `caller`, …).
 */
import ts from "typescript";

/** The names to keep among member completions at `pos` in `file`, or undefined to keep them all. */
export function proxyMembersAt(service: ts.LanguageService, file: string, pos: number): Set<string> | undefined {
  const program = service.getProgram();
  const sf = program?.getSourceFile(file);
  if (!program || !sf) return undefined;
  const access = memberAccessAt(sf, pos);
  if (!access) return undefined;
  const checker = program.getTypeChecker();
  const type = checker.getTypeAtLocation(access.expression);
  if (isProxyCall(type)) return new Set(["ret", "awaitable"]);
  const props = type.getProperties();
  const calls = props.filter((p) => isProxyCall(checker.getTypeOfSymbolAtLocation(p, access)));
  if (calls.length === 0) return undefined; // not a proxy: leave TypeScript's list as it is
  return new Set(props.filter((p) => !(checker.getTypeOfSymbolAtLocation(p, access).flags & ts.TypeFlags.Never)).map((p) => p.name));
}

/** A proxy's entry method: callable, with `ret` and `awaitable`. */
function isProxyCall(type: ts.Type): boolean {
  return type.getCallSignatures().length > 0 && type.getProperty("ret") !== undefined && type.getProperty("awaitable") !== undefined;
}

/** The `a.b` whose member name is being typed at `pos` (the dot before it is left of `pos`). */
function memberAccessAt(sf: ts.SourceFile, pos: number): ts.PropertyAccessExpression | undefined {
  let found: ts.PropertyAccessExpression | undefined;
  const visit = (node: ts.Node): void => {
    if (pos < node.getStart(sf) || pos > node.getEnd()) return;
    if (ts.isPropertyAccessExpression(node) && node.expression.getEnd() < pos) found = node;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/**
 * Documentation for the name at `pos` when TypeScript's quick info has none of its own: an entry
 * method seen through a proxy (the proxy types map the chare's members, which drops their
 * comments) gets the chare method's JSDoc; a cell global declared as `typeof` a runtime class
 * (`Chare`, `Future`) gets the class's.
 */
export function borrowedDocs(service: ts.LanguageService, file: string, pos: number): string {
  const program = service.getProgram();
  const sf = program?.getSourceFile(file);
  if (!program || !sf) return "";
  const checker = program.getTypeChecker();
  const node = identifierAt(sf, pos);
  if (!node) return "";
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) {
    const proxy = checker.getTypeAtLocation(parent.expression);
    for (const chare of proxyChareTypes(proxy)) {
      const member = chare.getProperty(node.text);
      const docs = member ? ts.displayPartsToString(member.getDocumentationComment(checker)) : "";
      if (docs) return docs;
    }
    return "";
  }
  const symbol = checker.getTypeAtLocation(node).getSymbol();
  return symbol ? ts.displayPartsToString(symbol.getDocumentationComment(checker)) : "";
}

/** The chare class types behind a proxy type (`ElementProxy<C>`, `CollectionProxy<C>`, …). */
function proxyChareTypes(type: ts.Type): ts.Type[] {
  const parts = type.isIntersection() ? [type, ...type.types] : [type];
  return parts.flatMap((t) => (t.aliasSymbol && /Proxy$/.test(t.aliasSymbol.name) ? t.aliasTypeArguments ?? [] : []));
}

function identifierAt(sf: ts.SourceFile, pos: number): ts.Identifier | undefined {
  let found: ts.Identifier | undefined;
  const visit = (node: ts.Node): void => {
    if (pos < node.getStart(sf) || pos > node.getEnd()) return;
    if (ts.isIdentifier(node)) found = node;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}
