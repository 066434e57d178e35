/**
 * Which parts of a cell reach the PEs. The rule, decided from the syntax tree (never from text):
 * a cell's top-level **class** and **function** declarations, and its `const`/`let`/`var`
 * declarations whose initializers compute nothing with side effects (literals, other names,
 * arithmetic, arrays and objects of those, functions, `Math.*`), and the registrations
 * `Reducer.register(…)` and `charm.serializable(…)`, run on every PE too. Other
 * statements — calls, `await`, loops, `new`, creating arrays of chares — run only on the driver.
 * A chare that needs a value computed by such a statement gets it as an argument; the names such
 * statements declare are kept (driver-only.ts), so a chare that uses one is told so. A shipped
 * name assigned later, in this cell or another, follows on the PEs (assignments.ts, reassigned.ts).
 */
import { wrapTopLevelAwaits } from "./resume-points.ts";
import ts from "typescript";
import { applyInserts, findAssignments, insertsRemap, wrapAssignments, type Insert, type LineColumn } from "./assignments.ts";

/** What a cell ships to PEs: a definition script, and the classes it declares (for the registry). */
export interface Shippable {
  /** The declarations to evaluate on every PE, followed by the registration trailer. */
  script: string;
  /** Names of the declared classes, in order. */
  classes: string[];
}

/** The global that registers declared values (runtime/interactive/definitions.ts REGISTER). */
export const REGISTER = "__charm4tsDefine";
/** The global that notes a class's instance fields for its live chares' upgrade (runtime/definitions/new-fields.ts FIELDS). */
export const FIELDS = "__charm4tsFields";

/** A cell's top-level names: those its PEs get, and those only the driver has. */
export interface CellDeclarations {
  /** What ships; undefined when nothing does. */
  shippable: Shippable | undefined;
  /** Names declared by statements that ship (classes, functions, constants). */
  shipped: string[];
  /** Names declared by `const`/`let`/`var` statements that run only on the driver, destructured ones too. */
  driverOnly: string[];
  /**
   * The cell itself for the driver, on the same lines: each class registered right after its
   * declaration (later statements of the same cell already use the new class), and each
   * assignment to a name the PEs have wrapped to report it (assignments.ts).
   */
  driverJs: string;
  /** Maps a position in driverJs back to the cell's JavaScript (what the wrapping inserted moved columns). */
  driverRemap: (position: LineColumn) => LineColumn;
  /** The names the PEs have that the cell assigns (the ones wrapped in driverJs). */
  assigned: string[];
  /** The names the shipped code reads: only a name PE code reads needs its new value there. */
  referenced: string[];
}

/** Picks a cell's shippable declarations out of its JavaScript; undefined when there are none. */
export function shippableDeclarations(js: string): Shippable | undefined {
  return cellDeclarations(js).shippable;
}

/**
 * Sorts a cell's top-level statements into what ships to PEs and what stays on the driver.
 * `onPes`: the top-level names earlier cells shipped; with this cell's own, assignments to them
 * are wrapped in the driver's copy. `cell`: the cell's name; its top-level awaits then resume
 * through the interrupt check in the driver's copy (resume-points.ts).
 */
export function cellDeclarations(js: string, onPes: ReadonlySet<string> = new Set(), cell?: string): CellDeclarations {
  const sf = ts.createSourceFile("cell.js", js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const kept: ts.Statement[] = [];
  const classes: string[] = [];
  const functions: string[] = [];
  const shipped: string[] = [];
  const driverOnly: string[] = [];
  const inserts: Insert[] = [];
  for (const statement of sf.statements) {
    if (ts.isClassDeclaration(statement) && statement.name) {
      kept.push(statement);
      classes.push(statement.name.text);
      inserts.push({ at: statement.end, text: `;${REGISTER}([${statement.name.text}]);`, rank: 0 });
    } else if (ts.isFunctionDeclaration(statement) && statement.name && statement.body) {
      kept.push(statement);
      functions.push(statement.name.text); // registered by name on PEs: usable as pool tasks
    } else if (ts.isVariableStatement(statement)) {
      const names = statement.declarationList.declarations.flatMap((d) => boundNames(d.name));
      // One impure declarator keeps the whole statement (and all its names) on the driver.
      const pure = statement.declarationList.declarations.every(isPureDeclaration);
      if (pure) kept.push(statement);
      (pure ? shipped : driverOnly).push(...names);
    } else if (ts.isExpressionStatement(statement) && ts.isCallExpression(statement.expression) && isRegistration(statement.expression)) {
      kept.push(statement);
    }
  }
  shipped.push(...classes, ...functions);
  // This cell's driver-only declarations replace what the PEs had under those names.
  const watched = new Set([...onPes, ...shipped]);
  for (const name of driverOnly) watched.delete(name);
  const assignments = findAssignments(sf, watched);
  inserts.push(...wrapAssignments(assignments));
  // The cell's own awaits resume through the interrupt check (resume-points.ts).
  if (cell) inserts.push(...wrapTopLevelAwaits(sf, cell));
  const driverJs = applyInserts(js, inserts);
  const driverRemap = insertsRemap(js, inserts);
  const assigned = [...new Set(assignments.flatMap((a) => a.names))];
  if (kept.length === 0) return { shippable: undefined, shipped, driverOnly, driverJs, driverRemap, assigned, referenced: [] };
  const registered = [...classes, ...functions].join(", ");
  const fields = kept.filter(ts.isClassDeclaration).map((c) => fieldsCall(c, js)).join("");
  const script = `${keepLines(js, kept)}\n;${fields}${REGISTER}([${registered}]);\n${sourceUrl(js)}`;
  return { shippable: { script, classes }, shipped, driverOnly, driverJs, driverRemap, assigned, referenced: referencedNames(kept) };
}

/**
 * Every name the statements read (more, not fewer: a local that shadows a top-level name counts
 * too). Names they declare, and property names, are not reads.
 */
function referencedNames(statements: readonly ts.Statement[]): string[] {
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && !isNameOf(node)) names.add(node.text);
    ts.forEachChild(node, visit);
  };
  statements.forEach(visit);
  return [...names];
}

/** Whether `id` names what its parent declares, or a property (`x.id`, `{ id: 1 }`, `id() {}`). */
function isNameOf(id: ts.Identifier): boolean {
  const parent = id.parent;
  if (ts.isPropertyAccessExpression(parent)) return parent.name === id;
  return (ts.isVariableDeclaration(parent) || ts.isFunctionDeclaration(parent) || ts.isClassDeclaration(parent) ||
    ts.isFunctionExpression(parent) || ts.isClassExpression(parent) || ts.isParameter(parent) || ts.isBindingElement(parent) ||
    ts.isPropertyAssignment(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent) ||
    ts.isGetAccessorDeclaration(parent) || ts.isSetAccessorDeclaration(parent)) && parent.name === id;
}

/** The names a declaration binds: `x`, or every name of a destructuring pattern (`{ a, b: [c] }`). */
function boundNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  return name.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : boundNames(e.name)));
}

/**
 * The kept statements at their original positions, everything else blanked but its line
 * breaks: a stack trace from a PE then names the cell's own lines.
 */
function keepLines(js: string, kept: readonly ts.Statement[]): string {
  let out = "";
  let pos = 0;
  for (const statement of kept) {
    const start = statement.getStart();
    out += blank(js.slice(pos, start)) + js.slice(start, statement.end);
    pos = statement.end;
  }
  return out + blank(js.slice(pos).replace(/\/\/# sourceURL=.*$/m, ""));
}

function blank(text: string): string {
  return text.replace(/[^\n]/g, "");
}

function sourceUrl(js: string): string {
  return /\/\/# sourceURL=.*$/m.exec(js)?.[0] ?? "";
}

/**
 * The call that notes a class's instance fields on the PEs: a redefined chare class's live chares
 * get a new field's initial value when its initializer is a constant, evaluated once per chare.
 */
function fieldsCall(c: ts.ClassDeclaration, js: string): string {
  const names: string[] = [];
  const initial: string[] = [];
  for (const m of c.members) {
    if (!ts.isPropertyDeclaration(m) || !ts.isIdentifier(m.name) || m.initializer === undefined) continue;
    if (m.modifiers?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword)) continue;
    names.push(m.name.text);
    if (isConstantInitializer(m.initializer)) initial.push(`${JSON.stringify(m.name.text)}: () => (${js.slice(m.initializer.getStart(), m.initializer.end)})`);
  }
  return names.length === 0 ? "" : `${FIELDS}(${c.name!.text}, ${JSON.stringify(names)}, { ${initial.join(", ")} });`;
}

/** A pure initializer with no function inside (one would close over the wrong `this` when run outside the constructor). */
function isConstantInitializer(e: ts.Expression): boolean {
  let hasFunction = false;
  const visit = (n: ts.Node): void => {
    if (ts.isArrowFunction(n) || ts.isFunctionExpression(n) || ts.isClassExpression(n) || n.kind === ts.SyntaxKind.ThisKeyword) hasFunction = true;
    else n.forEachChild(visit);
  };
  visit(e);
  return !hasFunction && isPure(e);
}

function isPureDeclaration(d: ts.VariableDeclaration): boolean {
  return ts.isIdentifier(d.name) && (d.initializer === undefined || isPure(d.initializer));
}

/** Whether evaluating `e` can't have side effects or depend on driver-only work. */
function isPure(e: ts.Expression): boolean {
  if (ts.isLiteralExpression(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isIdentifier(e)) return true;
  switch (e.kind) {
    case ts.SyntaxKind.TrueKeyword: case ts.SyntaxKind.FalseKeyword: case ts.SyntaxKind.NullKeyword:
      return true;
  }
  if (ts.isArrowFunction(e) || ts.isFunctionExpression(e) || ts.isClassExpression(e)) return true;
  if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e)) return isPure(e.expression);
  if (ts.isPrefixUnaryExpression(e)) return e.operator !== ts.SyntaxKind.PlusPlusToken && e.operator !== ts.SyntaxKind.MinusMinusToken && isPure(e.operand);
  if (ts.isBinaryExpression(e)) return !isAssignment(e.operatorToken.kind) && isPure(e.left) && isPure(e.right);
  if (ts.isConditionalExpression(e)) return isPure(e.condition) && isPure(e.whenTrue) && isPure(e.whenFalse);
  if (ts.isTemplateExpression(e)) return e.templateSpans.every((s) => isPure(s.expression));
  if (ts.isArrayLiteralExpression(e)) return e.elements.every((x) => (ts.isSpreadElement(x) ? isPure(x.expression) : isPure(x)));
  if (ts.isObjectLiteralExpression(e)) return e.properties.every(isPureProperty);
  if (ts.isPropertyAccessExpression(e)) return isPure(e.expression);
  if (ts.isCallExpression(e)) return (isMathCall(e) || isRegistration(e)) && e.arguments.every(isPure);
  return false;
}

function isPureProperty(p: ts.ObjectLiteralElementLike): boolean {
  if (ts.isShorthandPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p)) return true;
  if (ts.isPropertyAssignment(p)) return (!ts.isComputedPropertyName(p.name) || isPure(p.name.expression)) && isPure(p.initializer);
  if (ts.isSpreadAssignment(p)) return isPure(p.expression);
  return false;
}

function isMathCall(e: ts.CallExpression): boolean {
  const callee = e.expression;
  return ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === "Math" && callee.name.text !== "random";
}

/** `Reducer.register(name, fn)` and `charm.serializable(Class)`: registrations every PE needs. */
function isRegistration(e: ts.CallExpression): boolean {
  const callee = e.expression;
  if (!ts.isPropertyAccessExpression(callee) || !ts.isIdentifier(callee.expression)) return false;
  const [object, method] = [callee.expression.text, callee.name.text];
  return (object === "Reducer" && method === "register") || (object === "charm" && method === "serializable");
}

function isAssignment(kind: ts.SyntaxKind): boolean {
  return kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment;
}
