/**
 * Where a cell assigns a top-level name the PEs have, from its syntax tree (never from text):
 * `x = …`, `x += …` (every compound operator), `x++`, destructuring (`[x, y] = …`,
 * `({ x } = …)`), `for (x of …)`, and writes through its properties (`x.a = …`, `x[i]++`,
 * `delete x.a`), anywhere in the cell — nested blocks, loops, callbacks, function and method
 * bodies — except where a local of the same name shadows it (a parameter, an inner `let`,
 * `const`, `var`, `function` or `class`, a `catch` binding). The driver's copy of the cell has
 * each such place wrapped (reassigned.ts watches the names from then on).
 */
import ts from "typescript";

/** The global the driver's cells call after an assignment: `(value, name, read) => value`. */
export const ASSIGNED = "__charm4tsAssigned";

/** One place that assigns watched names. */
export interface Assignment {
  /**
   * `expression`: `[start, end)` is the expression that assigns; `loop`: it is the body of a
   * `for (x of …)` or `for (x in …)`, whose head assigns before each turn.
   */
  kind: "expression" | "loop";
  start: number;
  end: number;
  /** The watched names it changes, each once. */
  names: string[];
}

/** Text to insert at `at`; inserts at the same place go in `rank` order (see wrapAssignments). */
export interface Insert {
  at: number;
  text: string;
  rank: number;
}

/** The places in `sf` that assign names of `watched` bound at the cell's top level. */
export function findAssignments(sf: ts.SourceFile, watched: ReadonlySet<string>): Assignment[] {
  const found: Assignment[] = [];
  const visit = (node: ts.Node, locals: ReadonlySet<string>): void => {
    const inner = withLocals(node, locals);
    const assigned = assignedBy(node);
    if (assigned) {
      const names = [...new Set(assigned.names)].filter((name) => watched.has(name) && !inner.has(name));
      const at = assigned.kind === "loop" ? (node as ts.ForInOrOfStatement).statement : node;
      if (names.length > 0) found.push({ kind: assigned.kind, start: at.getStart(sf), end: at.end, names });
    }
    // A destructuring target is no expression: `x = 1` in `[x = 1] = a` is a default, not an assignment.
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken && isPattern(node.left)) {
      visitPattern(node.left, inner);
      visit(node.right, inner);
    } else if ((ts.isForOfStatement(node) || ts.isForInStatement(node)) && !ts.isVariableDeclarationList(node.initializer)) {
      visitPattern(node.initializer, inner);
      visit(node.expression, inner);
      visit(node.statement, inner);
    } else {
      ts.forEachChild(node, (child) => visit(child, inner));
    }
  };
  // Only the expressions inside a target (defaults, computed keys, indices) can assign.
  const visitPattern = (target: ts.Node, locals: ReadonlySet<string>): void => {
    if (ts.isArrayLiteralExpression(target)) {
      for (const element of target.elements) visitPattern(element, locals);
    } else if (ts.isObjectLiteralExpression(target)) {
      for (const property of target.properties) {
        if (ts.isShorthandPropertyAssignment(property)) {
          if (property.objectAssignmentInitializer) visit(property.objectAssignmentInitializer, locals);
        } else if (ts.isPropertyAssignment(property)) {
          if (ts.isComputedPropertyName(property.name)) visit(property.name.expression, locals);
          visitPattern(property.initializer, locals);
        } else {
          visitPattern(property, locals);
        }
      }
    } else if (ts.isSpreadElement(target) || ts.isSpreadAssignment(target) || ts.isParenthesizedExpression(target)) {
      visitPattern(target.expression, locals);
    } else if (ts.isBinaryExpression(target) && target.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      visitPattern(target.left, locals);
      visit(target.right, locals);
    } else {
      visit(target, locals); // `x`, `x.a[i]`: plain expressions, which assign nothing themselves
    }
  };
  for (const statement of sf.statements) visit(statement, new Set());
  return found;
}

function isPattern(e: ts.Expression): boolean {
  const inner = skipParentheses(e);
  return ts.isArrayLiteralExpression(inner) || ts.isObjectLiteralExpression(inner);
}

/**
 * The inserts that wrap each assignment so that the driver reports it: an expression `e` becomes
 * `__charm4tsAssigned(e, "x", () => x)` (its value unchanged; one call per name), a loop body `b`
 * becomes `{__charm4tsAssigned(void 0, "x", () => x);b}`. Only columns after an insert move.
 */
export function wrapAssignments(assignments: readonly Assignment[]): Insert[] {
  const inserts: Insert[] = [];
  for (const { kind, start, end, names } of assignments) {
    const reports = names.map((name) => `, ${JSON.stringify(name)}, () => ${name})`);
    // At one place, closing comes before opening; an outer range opens before and closes after an inner one.
    const open = (text: string): Insert => ({ at: start, text, rank: 1e15 - end });
    const close = (text: string): Insert => ({ at: end, text, rank: -start });
    const calls = `${ASSIGNED}(`.repeat(names.length);
    if (kind === "expression") inserts.push(open(calls), close(reports.join("")));
    else inserts.push(open(`{${calls}void 0${reports.join("")};`), close("}"));
  }
  return inserts;
}

/** A 1-based line and column, as V8's stack traces print them. */
export interface LineColumn {
  line: number;
  column: number;
}

/**
 * Maps a position in `applyInserts(source, inserts)` back to `source` (inserts never hold a line
 * break, so only columns move): tracebacks then show the cell's own columns, not the wrapped ones.
 */
export function insertsRemap(source: string, inserts: readonly Insert[]): (position: LineColumn) => LineColumn {
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
  // Per 0-based line: where each insert starts in the output line (0-based), and its length.
  const perLine = new Map<number, Array<{ out: number; length: number }>>();
  let line = 0;
  let shift = 0;
  for (const { at, text } of sortInserts(inserts)) {
    let l = line;
    while (l + 1 < lineStarts.length && lineStarts[l + 1]! <= at) l++;
    if (l !== line) { line = l; shift = 0; }
    const list = perLine.get(l) ?? [];
    list.push({ out: at - lineStarts[l]! + shift, length: text.length });
    perLine.set(l, list);
    shift += text.length;
  }
  return ({ line: outLine, column }) => {
    const list = perLine.get(outLine - 1);
    if (!list) return { line: outLine, column };
    const c = column - 1;
    let moved = 0;
    for (const { out, length } of list) {
      if (c >= out + length) moved += length;
      else { if (c >= out) moved += c - out; break; } // inside inserted text: where it was inserted
    }
    return { line: outLine, column: column - moved };
  };
}

function sortInserts(inserts: readonly Insert[]): Insert[] {
  return [...inserts].sort((a, b) => a.at - b.at || a.rank - b.rank);
}

/** `source` with `inserts` applied (ties at one place in `rank` order). */
export function applyInserts(source: string, inserts: readonly Insert[]): string {
  const sorted = sortInserts(inserts);
  let out = "";
  let cursor = 0;
  for (const { at, text } of sorted) {
    out += source.slice(cursor, at) + text;
    cursor = at;
  }
  return out + source.slice(cursor);
}

/** The names `node` itself assigns (not its children's), or undefined when it assigns none. */
function assignedBy(node: ts.Node): { kind: Assignment["kind"]; names: string[] } | undefined {
  if (ts.isBinaryExpression(node) && isAssignmentOperator(node.operatorToken.kind)) {
    const plain = node.operatorToken.kind === ts.SyntaxKind.EqualsToken;
    return { kind: "expression", names: plain ? targetNames(node.left) : rootName(node.left) };
  }
  if ((ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) &&
    (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken)) {
    return { kind: "expression", names: rootName(node.operand) };
  }
  if (ts.isDeleteExpression(node)) {
    const target = skipParentheses(node.expression);
    // `delete x` of a binding does nothing; `delete x.a` changes x.
    return ts.isIdentifier(target) ? undefined : { kind: "expression", names: rootName(target) };
  }
  if ((ts.isForOfStatement(node) || ts.isForInStatement(node)) && !ts.isVariableDeclarationList(node.initializer)) {
    return { kind: "loop", names: targetNames(node.initializer) };
  }
  return undefined;
}

/** The names a destructuring target (or a plain one) assigns. */
function targetNames(target: ts.Expression): string[] {
  const e = skipParentheses(target);
  if (ts.isArrayLiteralExpression(e)) {
    return e.elements.flatMap((element) => {
      if (ts.isOmittedExpression(element)) return [];
      if (ts.isSpreadElement(element)) return targetNames(element.expression);
      return targetNames(withoutDefault(element));
    });
  }
  if (ts.isObjectLiteralExpression(e)) {
    return e.properties.flatMap((property) => {
      if (ts.isShorthandPropertyAssignment(property)) return [property.name.text];
      if (ts.isPropertyAssignment(property)) return targetNames(withoutDefault(property.initializer));
      if (ts.isSpreadAssignment(property)) return targetNames(property.expression);
      return [];
    });
  }
  return rootName(e);
}

/** `x = 1` as a destructuring element is `x` with a default. */
function withoutDefault(element: ts.Expression): ts.Expression {
  return ts.isBinaryExpression(element) && element.operatorToken.kind === ts.SyntaxKind.EqualsToken ? element.left : element;
}

/** `x`, or the `x` that `x.a[i].b` writes into; nothing for `f().a` or `this.a`. */
function rootName(target: ts.Expression): string[] {
  let e = skipParentheses(target);
  while (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) e = skipParentheses(e.expression);
  return ts.isIdentifier(e) ? [e.text] : [];
}

function skipParentheses(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e)) e = e.expression;
  return e;
}

function isAssignmentOperator(kind: ts.SyntaxKind): boolean {
  return kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment;
}

/** `locals` plus the names `node` binds for its own inner scope. */
function withLocals(node: ts.Node, locals: ReadonlySet<string>): ReadonlySet<string> {
  const names: string[] = [];
  if (ts.isFunctionLike(node) && "body" in node && node.body) {
    for (const parameter of node.parameters) names.push(...boundNames(parameter.name));
    if (ts.isFunctionExpression(node) && node.name) names.push(node.name.text);
    if (ts.isBlock(node.body)) names.push(...hoistedVars(node.body), ...lexicalNames(node.body.statements));
  } else if (ts.isClassStaticBlockDeclaration(node)) {
    names.push(...hoistedVars(node.body));
  } else if ((ts.isClassDeclaration(node) || ts.isClassExpression(node)) && node.name) {
    names.push(node.name.text); // a class's own name, inside it, is a binding of its own
  } else if (ts.isBlock(node) || ts.isModuleBlock(node)) {
    names.push(...lexicalNames(node.statements));
  } else if (ts.isCaseBlock(node)) {
    names.push(...lexicalNames(node.clauses.flatMap((clause) => [...clause.statements])));
  } else if ((ts.isForStatement(node) || ts.isForInStatement(node) || ts.isForOfStatement(node)) &&
    node.initializer && ts.isVariableDeclarationList(node.initializer) && isBlockScoped(node.initializer)) {
    names.push(...node.initializer.declarations.flatMap((d) => boundNames(d.name)));
  } else if (ts.isCatchClause(node) && node.variableDeclaration) {
    names.push(...boundNames(node.variableDeclaration.name));
  }
  return names.length === 0 ? locals : new Set([...locals, ...names]);
}

/** The `let`, `const`, `class` and `function` names declared directly in a block. */
function lexicalNames(statements: readonly ts.Statement[]): string[] {
  return statements.flatMap((s) => {
    if (ts.isVariableStatement(s) && isBlockScoped(s.declarationList)) return s.declarationList.declarations.flatMap((d) => boundNames(d.name));
    if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name) return [s.name.text];
    return [];
  });
}

/** The `var` names of a function body, in nested blocks and loop heads too (not in nested functions). */
function hoistedVars(body: ts.Node): string[] {
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return;
    if (ts.isVariableDeclarationList(node) && !isBlockScoped(node)) names.push(...node.declarations.flatMap((d) => boundNames(d.name)));
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(body, visit);
  return names;
}

function isBlockScoped(list: ts.VariableDeclarationList): boolean {
  return (list.flags & ts.NodeFlags.BlockScoped) !== 0;
}

/** The names a binding binds: `x`, or every name of a pattern (`{ a, b: [c] }`). */
function boundNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  return name.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : boundNames(e.name)));
}
