/** What a cell sees besides the language: console, display, input, require and module loading. */
import { Console } from "node:console";
import { createRequire, isBuiltin } from "node:module";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import type { CellOutput, InputRequest } from "../protocol.ts";
import { createDisplay, type Display } from "./display.ts";
import { IMPORT_FUNCTION, IMPORT_META } from "./module-syntax.ts";

/** How the globals reach the kernel: an output for the current cell, and a line of user input. */
export interface CellIo {
  emit(output: CellOutput): void;
  input(request: InputRequest): Promise<string>;
  /** Called before a cell first imports a module by path or package name (loader hooks go in then). */
  beforeModuleImport(): void;
  /** Shows a value as a widget, when it has a widget form and a widget frontend is there (kernel/widgets/live-view.ts). */
  widgetView?(value: unknown, show: (value: unknown) => unknown): { readonly id: string; update(content: unknown): void } | undefined;
}

/** Installs the cell globals on this worker's `globalThis`; modules resolve from `cwd`. Returns the cells' `display`. */
export function installCellGlobals(cwd: string, io: CellIo): Display {
  const stream = (name: "stdout" | "stderr"): Writable =>
    new Writable({
      // Writes complete synchronously, so output order matches call order.
      write(chunk: Buffer | string, _encoding, callback) {
        io.emit({ kind: "stream", name, text: chunk.toString() });
        callback();
      },
    });
  const stdout = stream("stdout");
  const stderr = stream("stderr");
  const cellConsole = new Console({ stdout, stderr, colorMode: false });
  // A worker's process.stdout would go to the kernel's terminal, not the notebook.
  process.stdout.write = ((chunk: string | Uint8Array) => stdout.write(chunk)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => stderr.write(chunk)) as typeof process.stderr.write;

  const base = pathToFileURL(join(cwd, "/")).href;
  const cellImport = async (specifier: string): Promise<unknown> => {
    if (isBuiltin(specifier)) return import(specifier);
    // The runtime the cells' globals belong to, wherever the notebook is (another copy from a
    // node_modules folder would be a second runtime that was never started).
    if (specifier === "charm4ts") return import("../../../runtime/index.ts");
    // ESM resolution from the notebook's folder (import conditions), so ESM-only packages load too.
    io.beforeModuleImport();
    return import(import.meta.resolve(specifier, base));
  };
  const { display, clearOutput } = createDisplay(io.emit, io.widgetView);
  Object.assign(globalThis, {
    console: cellConsole,
    require: createRequire(join(cwd, "notebook.cjs")),
    display,
    clearOutput,
    input: (prompt = "") => io.input({ prompt: String(prompt), password: false }),
    password: (prompt = "") => io.input({ prompt: String(prompt), password: true }),
    [IMPORT_FUNCTION]: cellImport,
    [IMPORT_META]: { url: base, dirname: cwd, filename: join(cwd, "notebook.ts") },
  });
  return display;
}
