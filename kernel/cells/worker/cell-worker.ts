/** The executor worker's entry: runs cells one at a time and streams their outputs to the main thread. */
import { parentPort, workerData } from "node:worker_threads";
import type { CellOutput, CellResult, FromWorker, ToWorker } from "../protocol.ts";
import { NO_RESULT } from "./display.ts";
import { Evaluator } from "./evaluator.ts";
import { bundleOf, errorResult } from "./format.ts";
import { installCellGlobals } from "./globals.ts";
import { propertyNames } from "./property-names.ts";
import type { Remap } from "./source-map.ts";
import { transpileCell } from "./transpile.ts";
import { loadTypeScript, typeScriptLoaded } from "./typescript-loader.ts";
import { registerTypeScriptHooks } from "./ts-hooks.ts";
import { InteractiveRuntime } from "../../interactive/session.ts";
import { routePeOutput } from "../../interactive/boot.ts";

const port = parentPort!;
const { cwd, cellRunning } = workerData as { cwd: string; cellRunning: Int32Array };
const send = (message: FromWorker): void => port.postMessage(message);

const TYPESCRIPT_PRELOAD_MS = 300;
const safeSetTimeout = setTimeout;
const safeSetImmediate = setImmediate;
let typeScriptWanted = false;
/** Loads TypeScript after the running cell has replied (a macrotask later), unless it is loaded. */
function preloadTypeScript(): void {
  typeScriptWanted = false;
  if (!typeScriptLoaded()) safeSetImmediate(() => { if (!current) loadTypeScript(); else typeScriptWanted = true; });
}

/** The cell running now; outputs with no running cell travel as late output (`id: null`). */
let current: { id: number; finish(result: CellResult): void } | null = null;
const pendingInputs = new Map<number, { resolve(value: string): void; reject(error: Error): void }>();
let nextInputId = 1;
const remaps = new Map<string, Remap>();

const emit = (output: CellOutput): void => send({ type: "output", id: current?.id ?? null, output });
// Loader hooks for the notebook's own .ts modules, registered on a cell's first import of a path
// or package: registering starts Node's loader thread, about 100 ms a kernel start needn't pay.
let hooksRegistered = false;
installCellGlobals(cwd, {
  emit,
  beforeModuleImport() {
    if (hooksRegistered) return;
    hooksRegistered = true;
    registerTypeScriptHooks(import.meta.resolve("typescript"));
  },
  input(request) {
    if (!current) return Promise.reject(new Error("input() works only while its cell is running"));
    const id = nextInputId++;
    send({ type: "input-request", id, cellId: current.id, request });
    return new Promise((resolve, reject) => pendingInputs.set(id, { resolve, reject }));
  },
});
// A cell's stray error (a throwing timer, a rejected promise nobody awaits) would end the worker
// and every cell's state with it. It is reported where output goes now, and the worker lives on.
const reportStray = (kind: string) => (error: unknown) => {
  const { traceback } = errorResult(error, remaps);
  emit({ kind: "stream", name: "stderr", text: `${kind}: ${traceback.join("\n")}\n` });
};
process.on("uncaughtException", reportStray("Uncaught exception"));
process.on("unhandledRejection", reportStray("Unhandled promise rejection"));
// Stack frames in the notebook's own .ts modules then name their .ts lines (inline source maps).
process.setSourceMapsEnabled(true);
// The parallel runtime lives in this thread (the driver): its PEs start now, in the background,
// and print through the cell streams installed above ("[PE n]"-labelled lines).
const runtime = new InteractiveRuntime();
// PE output goes to the cell whose work printed it: the running cell, or marked with its origin.
const cellNames = new Map<number, string>();
routePeOutput((stream, text, cause) => {
  if (cause === 0 || cause === current?.id) return emit({ kind: "stream", name: stream, text });
  const origin = cellNames.get(cause) ?? "an earlier cell";
  emit({ kind: "stream", name: stream, text: text.replace(/^(?=.)/gm, `[from ${origin}] `) });
});
Object.assign(globalThis, runtime.globals());
runtime.start();
const evaluator = new Evaluator();
// Awaited below, not at the top level: see entry.ts.
const evaluatorStarted = evaluator.start();

async function execute(id: number, code: string, cellName: string): Promise<void> {
  let done = false;
  const finish = (result: CellResult): void => {
    if (done) return;
    done = true;
    current = null;
    send({ type: "result", id, result });
    if (typeScriptWanted) preloadTypeScript();
  };
  current = { id, finish };
  try {
    const transpiled = transpileCell(code, cellName);
    if (!transpiled.ok) {
      const traceback = transpiled.diagnostics.map((d) => `${cellName}:${d.line}:${d.column}: ${d.message}`);
      const first = transpiled.diagnostics[0];
      return finish({ status: "error", ename: "SyntaxError", evalue: `${first.message} (${cellName}:${first.line}:${first.column})`, traceback });
    }
    if (transpiled.remap) remaps.set(cellName, transpiled.remap);
    await runtime.whenReady().catch((error: Error) => emit({ kind: "stream", name: "stderr", text: `${error.message}\n` }));
    // Declarations go to the PEs first, so they exist there before anything the cell sends.
    runtime.cellStarts(id);
    cellNames.set(id, cellName);
    const shipment = transpiled.plain ? { settled: Promise.resolve(undefined), js: transpiled.js } : runtime.ship(transpiled.js);
    const endWatch = runtime.watch((text) => emit({ kind: "stream", name: "stderr", text }));
    // The main thread's interrupter stops a busy cell from outside only while this flag is set.
    Atomics.store(cellRunning, 0, 1);
    const evaluation = await evaluator.run(shipment.js).finally(() => {
      Atomics.store(cellRunning, 0, 0);
      endWatch();
    });
    const warning = await shipment.settled;
    if (warning) emit({ kind: "stream", name: "stderr", text: warning });
    // What the cell's work printed on the PEs lands in the cell, before its reply.
    if (evaluation.kind !== "terminated") await runtime.settleOutput();
    switch (evaluation.kind) {
      case "value":
        // `display.html(...)` as the last line already showed its output: no result echo.
        if ((evaluation.value as { [NO_RESULT]?: boolean } | null)?.[NO_RESULT] === true) return finish({ status: "ok" });
        return finish({ status: "ok", value: bundleOf(evaluation.value) });
      case "none":
        return finish({ status: "ok" });
      case "error":
        return finish(errorResult(evaluation.error, remaps, { cellName, line: evaluation.line, column: evaluation.column }));
      case "terminated":
        return finish(interrupted());
      default:
        evaluation satisfies never;
    }
  } catch (error) {
    finish(errorResult(error, remaps));
  }
}

function interrupted(): CellResult {
  // Name what the cell left running on the PEs; then, after it has ended, find PEs stuck in an
  // entry method (their report arrives as late output).
  // The main thread words the error; evalue carries only this detail (possibly empty).
  const running = runtime.stillRunning().trim();
  void runtime.recoverStuckPes().then((text) => { if (text) emit({ kind: "stream", name: "stderr", text }); });
  return { status: "error", ename: "Interrupted", evalue: running, traceback: [] };
}

port.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "execute":
      void execute(message.id, message.code, message.cellName);
      return;
    case "input-reply": {
      const pending = pendingInputs.get(message.id);
      pendingInputs.delete(message.id);
      if (message.error !== undefined) pending?.reject(new Error(message.error));
      else pending?.resolve(message.value);
      return;
    }
    case "interrupt":
      // Reached here either because the cell awaits (the thread is free) or after the main thread
      // terminated a busy loop; in both cases the cell ends now and its pending awaits are abandoned.
      for (const pending of pendingInputs.values()) pending.reject(new Error("Interrupted"));
      pendingInputs.clear();
      if (current?.id === message.id) current.finish(interrupted());
      return;
    case "property-names":
      void propertyNames(message.expression, evaluator).then((names) =>
        send({ type: "property-names", id: message.id, names }),
      );
      return;
    case "close":
      evaluator.close();
      port.close();
      return;
    default:
      message satisfies never;
  }
});
void evaluatorStarted.then(() => {
  send({ type: "ready" });
  // TypeScript loads once the first cells had their chance to run without it (plain-cell.ts);
  // never while a cell runs, since loading holds this thread for a few hundred milliseconds.
  safeSetTimeout(() => { typeScriptWanted = true; if (!current) preloadTypeScript(); }, TYPESCRIPT_PRELOAD_MS).unref();
});
