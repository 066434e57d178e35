/** A TypeScript language service over one virtual file: the successful cells so far, then the current one. */
import ts from "typescript";
import { createRequire } from "node:module";
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { historyText } from "./history.ts";
import { borrowedDocs, proxyMembersAt } from "./proxy-members.ts";
import { packageRoot } from "../../../runtime/embedding.ts";

/** Widget types a cell may name (`let s: widgets.IntSlider`); `widgets.IntSlider(…)` makes one. */
const WIDGET_TYPES = ["Widget", "IntSlider", "FloatSlider", "IntProgress", "FloatProgress", "Button", "Checkbox", "Dropdown", "Text", "HTML", "Label", "HBox", "VBox"];

// What the executor installs on globalThis, so completion and hover know the cell globals.
const CELL_GLOBALS = `
type DisplayHandle<T> = { readonly id: string; update(content: T): void };
type Show<T> = (content: T, options?: { id?: string }) => DisplayHandle<T>;
declare const display: (<T>(value: T, options?: { id?: string }) => DisplayHandle<T>) & {
  html: Show<string>; svg: Show<string>; png: Show<string | Uint8Array>; markdown: Show<string>; json: Show<unknown>; text: Show<string>;
};
/** Clears the cell's output; with \`wait\`, when the next output arrives. */
declare function clearOutput(wait?: boolean): void;
/** Asks the notebook user for a line of text. */
declare function input(prompt?: string): Promise<string>;
/** Asks the notebook user for a secret. */
declare function password(prompt?: string): Promise<string>;
` + commGlobals() + runtimeGlobals();

/** The `comms` and `widgets` globals (kernel/cells/worker/comms.ts, kernel/widgets), typed from their own declarations. */
function commGlobals(): string {
  const api = JSON.stringify(join(packageRoot(), "kernel", "cells", "worker", "comms.ts"));
  const widgets = JSON.stringify(join(packageRoot(), "kernel", "widgets", "index.ts"));
  return [
    `/** Jupyter comms: register targets the frontend opens, open comms to the frontend; handlers run while a cell runs too. */`,
    `declare const comms: import(${api}).CellComms;`,
    `type Comm = import(${api}).Comm;`,
    `type CommMessage<T = any> = import(${api}).CommMessage<T>;`,
    `type CommBuffer = import(${api}).CommBuffer;`,
    `/** Interactive controls (sliders, buttons, progress bars…) shown in the notebook, synced both ways; their handlers run while a cell runs too. */`,
    `declare const widgets: import(${widgets}).Widgets;`,
    // A namespace, not globals: a cell's own `class Label` must not clash with a widget type.
    `declare namespace widgets { ${WIDGET_TYPES.map((name) => `type ${name} = import(${widgets}).${name};`).join(" ")} }`,
    "",
  ].join("\n");
}

/** The parallel runtime's names, which kernel/interactive/session.ts installs in every cell. */
function runtimeGlobals(): string {
  const api = JSON.stringify(join(packageRoot(), "runtime", "index.ts"));
  const values = ["charm", "Chare", "Future", "Channel", "Reducer", "ArrayMap", "CharmError", "PeLostError", "RemoteError", "barChart", "lineChart"];
  const generic = ["Future", "Channel"];
  // A cell's charm has the notebook's own additions too (charm.output).
  const session = JSON.stringify(join(packageRoot(), "kernel", "interactive", "session.ts"));
  return [
    ...values.map((name) => `declare const ${name}: typeof import(${api}).${name}${name === "charm" ? ` & import(${session}).NotebookCharm` : ""};`),
    ...values.filter((n) => n !== "charm" && n !== "Reducer" && !n.endsWith("Chart")).map((name) =>
      generic.includes(name) ? `type ${name}<T = unknown> = import(${api}).${name}<T>;` : `type ${name} = import(${api}).${name};`),
    `type ElementProxy<C> = import(${api}).ElementProxy<C>;`,
    `type CollectionProxy<C> = import(${api}).CollectionProxy<C>;`,
    `/** Shows a progress bar in the running cell, updated in place. */`,
    `declare function progress(total: number, label?: string): { update(done: number): void; tick(n?: number): void };`,
  ].join("\n");
}

/** A type error of a cell, placed within the cell. */
type CellError = { line: number; column: number; code: number; message: string };

/** A check's errors and the versions of the notebook folder's own files it read. */
type Checked = { errors: CellError[]; files: Array<[file: string, version: string]> };

/**
 * How many checked notebook texts keep their result. Re-running a cell unchanged (a loop of
 * executes, a benchmark, Run All twice) gives the same text, and its check is then free.
 */
const CHECKS_REMEMBERED = 16;

/** Completion and quick info for cells; the notebook folder `cwd` is where imports resolve. */
export class CellLanguageHost {
  /** Errors of each recently checked notebook text, in order of use. */
  private readonly checked = new Map<string, Checked>();
  private readonly notebookFile: string;
  private readonly globalsFile: string;
  private text = "";
  /** Snapshots of the files other than the notebook, with the version they were read at. */
  private readonly snapshots = new Map<string, { version: string; snapshot: ts.IScriptSnapshot | undefined }>();
  private version = 0;
  private readonly service: ts.LanguageService;

  constructor(cwd: string) {
    this.notebookFile = join(cwd, "__notebook__.ts");
    this.globalsFile = join(cwd, "__cell_globals__.d.ts");
    // @types/node comes from this package, not the notebook's folder (tslab's "Cannot find name 'console'").
    const typesRoot = nodeTypesRoot();
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      moduleDetection: ts.ModuleDetectionKind.Force,
      lib: ["lib.es2023.d.ts"],
      types: typesRoot ? ["node"] : [],
      typeRoots: typesRoot ? [typesRoot] : [],
      allowImportingTsExtensions: true,
      // `import … from "charm4ts"` in a cell is the kernel's own runtime (see worker/globals.ts).
      paths: { charm4ts: [join(packageRoot(), "runtime", "index.ts")] },
      allowJs: true,
      noEmit: true,
      strict: true,
      skipLibCheck: true,
    };
    const host: ts.LanguageServiceHost = {
      getScriptFileNames: () => [this.globalsFile, this.notebookFile],
      getScriptVersion: (file) => (file === this.notebookFile ? String(this.version) : fileVersion(file)),
      getScriptSnapshot: (file) => this.snapshot(file),
      getCurrentDirectory: () => cwd,
      getCompilationSettings: () => options,
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: (file) => this.read(file) !== undefined,
      readFile: (file) => this.read(file),
      directoryExists: ts.sys.directoryExists,
      getDirectories: ts.sys.getDirectories,
      readDirectory: ts.sys.readDirectory,
    };
    this.service = ts.createLanguageService(host, ts.createDocumentRegistry());
  }

  /** Names completing the word before `cursor` (UTF-16 offset into `code`), and the word's span. */
  complete(history: string[], code: string, cursor: number): { names: string[]; kinds: string[]; start: number; end: number } {
    const base = this.load(history, code);
    const start = wordStart(code, cursor);
    const prefix = code.slice(start, cursor);
    const completions = this.service.getCompletionsAtPosition(this.notebookFile, base + cursor, {});
    const only = completions?.isMemberCompletion ? proxyMembersAt(this.service, this.notebookFile, base + cursor) : undefined;
    const kinds = new Map<string, string>();
    for (const entry of completions?.entries ?? []) {
      if (only && !only.has(entry.name)) continue;
      if (entry.name.startsWith(prefix) && !entry.name.startsWith("__") && !kinds.has(entry.name)) kinds.set(entry.name, entry.kind);
    }
    const names = [...kinds.keys()].sort();
    return { names, kinds: names.map((name) => kinds.get(name)!), start, end: cursor };
  }

  /** The type and documentation of the name at `cursor`, or null. */
  inspect(history: string[], code: string, cursor: number, detailLevel: number): string | null {
    const base = this.load(history, code);
    // Jupyter sends the cursor just after the name: look one character back too.
    let at = base + cursor;
    let info = this.service.getQuickInfoAtPosition(this.notebookFile, at);
    if (!info && cursor > 0) info = this.service.getQuickInfoAtPosition(this.notebookFile, (at = base + cursor - 1));
    if (!info) return null;
    const signature = ts.displayPartsToString(info.displayParts);
    const docs = ts.displayPartsToString(info.documentation) || borrowedDocs(this.service, this.notebookFile, at);
    const tags = detailLevel > 0 ? (info.tags ?? []).map((t) => `@${t.name} ${ts.displayPartsToString(t.text)}`) : [];
    return [signature, docs, ...tags].filter((part) => part !== "").join("\n\n");
  }

  /** Type errors in the current cell (not in earlier ones), as `cell:line:col - error TSnnnn: text` lines. */
  check(history: string[], code: string, cellName: string): string[] {
    const base = this.load(history, code);
    let result = this.checked.get(this.text);
    // Most recently used last, so the oldest is the one to forget.
    this.checked.delete(this.text);
    // A module the cells import may have been edited since: then the text alone says nothing.
    if (!result || result.files.some(([file, version]) => fileVersion(file) !== version)) {
      result = { errors: this.cellErrors(base), files: this.ownFiles() };
      if (this.checked.size >= CHECKS_REMEMBERED) this.checked.delete(this.checked.keys().next().value!);
    }
    this.checked.set(this.text, result);
    return result.errors.map((e) => `${cellName}:${e.line}:${e.column} - error TS${e.code}: ${e.message}`);
  }

  /** The files of the last program that can change while the kernel runs, with their versions. */
  private ownFiles(): Array<[string, string]> {
    const files = this.service.getProgram()?.getSourceFiles() ?? [];
    return files
      .map((sf) => sf.fileName)
      .filter((file) => file !== this.notebookFile && file !== this.globalsFile)
      .map((file): [string, string] => [file, fileVersion(file)])
      .filter(([, version]) => version !== FIXED);
  }

  /** The errors TypeScript finds in the loaded file from `base` on, with lines counted from there. */
  private cellErrors(base: number): CellError[] {
    const sf = this.service.getProgram()?.getSourceFile(this.notebookFile);
    if (!sf) return [];
    const cellStart = sf.getLineAndCharacterOfPosition(base).line;
    return this.service
      .getSemanticDiagnostics(this.notebookFile)
      .filter((d) => d.start !== undefined && d.start >= base && d.category === ts.DiagnosticCategory.Error)
      .map((d) => {
        const { line, character } = sf.getLineAndCharacterOfPosition(d.start!);
        const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
        return { line: line - cellStart + 1, column: character + 1, code: d.code, message };
      });
  }

  /** Puts history + code in the virtual file; returns where `code` starts in it. */
  private load(history: string[], code: string): number {
    const prefix = historyText(history, code);
    const text = prefix + code;
    // An unchanged version lets the language service keep its program instead of rebuilding it.
    if (text !== this.text) {
      this.text = text;
      this.version++;
    }
    return prefix.length;
  }

  /**
   * A file's snapshot, read again only when its version changed. The language service asks for
   * every file's snapshot at every update, before it compares versions: reading TypeScript's
   * libs and @types/node from disk each time cost ~20 ms of every check.
   */
  private snapshot(file: string): ts.IScriptSnapshot | undefined {
    if (file === this.notebookFile) return ts.ScriptSnapshot.fromString(this.text);
    const version = file === this.globalsFile ? FIXED : fileVersion(file);
    const known = this.snapshots.get(file);
    if (known?.version === version) return known.snapshot;
    const text = this.read(file);
    const snapshot = text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    this.snapshots.set(file, { version, snapshot });
    return snapshot;
  }

  private read(file: string): string | undefined {
    if (file === this.notebookFile) return this.text;
    if (file === this.globalsFile) return CELL_GLOBALS;
    return ts.sys.readFile(file);
  }
}

/** The version of files that don't change under a running kernel: installed packages, TypeScript's libs. */
const FIXED = "0";
/** The runtime's sources (what cells import as "charm4ts"): fixed too, not stat'ed at every check. */
const OWN_SOURCES = [join(packageRoot(), "runtime") + "/", join(packageRoot(), "kernel") + "/"];

/**
 * A file's version for the language service: its modification time, so a module the notebook
 * imports is read again after the user edits it; installed packages count as fixed.
 */
function fileVersion(file: string): string {
  if (file.includes("/node_modules/") || OWN_SOURCES.some((dir) => file.startsWith(dir))) return FIXED;
  try {
    return String(statSync(file).mtimeMs);
  } catch {
    return "missing";
  }
}

function nodeTypesRoot(): string | undefined {
  try {
    return dirname(dirname(createRequire(import.meta.url).resolve("@types/node/package.json")));
  } catch {
    return undefined; // completion still works, without Node's own API
  }
}

/** Start of the identifier that ends at `cursor`. */
export function wordStart(code: string, cursor: number): number {
  const match = /[\p{L}\p{N}_$]*$/u.exec(code.slice(0, cursor));
  return cursor - (match?.[0].length ?? 0);
}
