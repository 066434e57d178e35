/** The executor worker's entry: runs cells one at a time and streams their outputs to the main thread. */
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import type { CellOutput, CellResult, FromWorker, ToWorker } from "../protocol.ts";
import { DISPLAY_INSTEAD, NO_RESULT } from "./display.ts";
import { Evaluator } from "./evaluator.ts";
import { CommHub } from "./comms.ts";
import { createWidgets } from "../../widgets/index.ts";
import { liveView } from "../../widgets/live-view.ts";
import { bundleOf, errorResult, type TracebackContext } from "./format.ts";
import { installCellGlobals } from "./globals.ts";
import { propertyNames } from "./property-names.ts";
import type { Remap } from "./source-map.ts";
import { transpileCell } from "./transpile.ts";
import { loadTypeScript, typeScriptLoaded } from "./typescript-loader.ts";
import { registerTypeScriptHooks } from "./ts-hooks.ts";
import { InteractiveRuntime } from "../../interactive/session.ts";
import { PLAIN, interruptCell } from "../../../runtime/embedding.ts";
import { installResumedCheck } from "./resumed.ts";
import { TIMED_OUT, settledWithin } from "../settled-within.ts";
import { routePeOutput } from "../../interactive/boot.ts";
import { StreamLimit, limitFromEnv, type OutputSource } from "./stream-limit.ts";
import type { DroppedOutput } from "../../../runtime/embedding.ts";

const port = parentPort!;
const { cwd, cellRunning } = workerData as { cwd: string; cellRunning: Int32Array };
const send = (message: FromWorker): void => port.postMessage(message);

const TYPESCRIPT_PRELOAD_MS = 300;
const safeSetTimeout = setTimeout;
const safeClearTimeout = clearTimeout;
const safeSetImmediate = setImmediate;
let typeScriptWanted = false;
/** Loads TypeScript after the running cell has replied (a macrotask later), unless it is loaded. */
function preloadTypeScript(): void {
  typeScriptWanted = false;
  if (!typeScriptLoaded()) safeSetImmediate(() => { if (!current) loadTypeScript(); else typeScriptWanted = true; });
}

/**
 * The cell running now; outputs with no running cell travel as late output (`id: null`).
 * `interrupt` ends it as interrupted (once), after the PEs have been checked.
 */
let current: { id: number; finish(result: CellResult): void; interrupt(): void } | null = null;
const pendingInputs = new Map<number, { resolve(value: string): void; reject(error: Error): void }>();
let nextInputId = 1;
const remaps = new Map<string, Remap>();
// Stack traces name modules by their real path: the notebook's folder is compared as one too.
const tracebacks: TracebackContext = { cwd: realFolder(cwd), remaps };

/** The kernel's own notices (hang warning, interrupt reports): never rate limited. */
const notice = (output: CellOutput): void => send({ type: "output", id: current?.id ?? null, output });
// Printed output, the cell's and its PEs', is rate limited here, before it leaves this thread:
// a flood is dropped and counted, not queued (stream-limit.ts). Between cells it counts against
// the last cell's budget; the next cell starts with a full one.
const streamLimit = new StreamLimit(limitOrDefault());
const emit = (output: CellOutput, source: OutputSource = "cell", earlier = false): void => {
  if (output.kind === "stream" && !streamLimit.admit(source, output.text, earlier)) {
    const summary = streamLimit.summaryIfDue();
    if (summary) notice({ kind: "stream", name: "stderr", text: summary });
    return;
  }
  notice(output);
};
// Loader hooks for the notebook's own .ts modules, registered on a cell's first import of a path
// or package: registering starts Node's loader thread, about 100 ms a kernel start needn't pay.
let hooksRegistered = false;
const display = installCellGlobals(cwd, {
  emit,
  // `widgets` is made below, before any cell can display anything.
  widgetView: (value, show) => liveView(widgets, show, value),
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
  const { traceback } = errorResult(error, tracebacks, undefined, PLAIN);
  emit({ kind: "stream", name: "stderr", text: `${kind}: ${traceback.join("\n")}\n` });
};
process.on("uncaughtException", reportStray("Uncaught exception"));
// Comms (worker/comms.ts): what a cell sends is its output; what a frontend's message's handler
// sends goes out under that message. A failing handler shows in the running cell, else in the log.
const commFailed = (error: unknown, what: string): void => {
  if (current) return reportStray(`Error in ${what}`)(error);
  send({ type: "comm-error", text: `${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` });
};
const comms = new CommHub({
  publish: (message, origin) => (origin === undefined ? emit({ kind: "comm", message }) : send({ type: "comm-output", origin, message })),
  failed: commFailed,
});
// Widgets (kernel/widgets) are comms too; what a frontend sends them that makes no sense is logged.
const widgets = createWidgets({ comms: comms.api, failed: commFailed, log: (text) => send({ type: "comm-error", text }) });
Object.assign(globalThis, { comms: comms.api, widgets });
process.on("unhandledRejection", reportStray("Unhandled promise rejection"));
// Stack frames in the notebook's own .ts modules then name their .ts lines (inline source maps).
process.setSourceMapsEnabled(true);
// The parallel runtime lives in this thread (the driver): its PEs start now, in the background,
// and print through the cell streams installed above ("[PE n]"-labelled lines).
const runtime = new InteractiveRuntime();
// A chare's ReferenceError for a name only the driver has says so, wherever it is shown.
tracebacks.explain = (thrown) => runtime.driverOnly.explain(thrown);
// PE output goes to the cell whose work printed it: the running cell, or marked with its origin.
const cellNames = new Map<number, string>();
routePeOutput((stream, text, cause, pe, dropped) => {
  if (dropped) return heldBack(pe, dropped);
  runtime.peOutput.add(pe, text);
  if (cause === 0 || cause === current?.id) return emit({ kind: "stream", name: stream, text }, pe);
  const origin = cellNames.get(cause) ?? "an earlier cell";
  emit({ kind: "stream", name: stream, text: text.replace(/^(?=.)/gm, `[from ${origin}] `) }, pe, true);
});
/** A PE held output back over its own budget: counted as dropped, and its recent output kept for charm.output. */
function heldBack(pe: number, dropped: DroppedOutput): void {
  if (dropped.recent !== undefined) runtime.peOutput.replace(pe, dropped.recent);
  if (dropped.bytes === 0) return;
  streamLimit.count(pe, dropped.lines, dropped.bytes);
  const summary = streamLimit.summaryIfDue();
  if (summary) notice({ kind: "stream", name: "stderr", text: summary });
}
Object.assign(globalThis, runtime.globals());
installResumedCheck();
runtime.start();
const evaluator = new Evaluator();
// Awaited below, not at the top level: see entry.ts.
const evaluatorStarted = evaluator.start();

/** The limit the environment sets; a bad setting is reported in the first cell, and the defaults apply. */
function limitOrDefault(): ReturnType<typeof limitFromEnv> {
  try {
    return limitFromEnv();
  } catch (error) {
    notice({ kind: "stream", name: "stderr", text: `charm4ts: ${(error as Error).message}; the default output limit applies.\n` });
    return limitFromEnv({});
  }
}

/** How long a cell's reply waits for its declarations to be evaluated on every PE (a failure after it is reported when it comes). */
const DECLARATIONS_WAIT_MS = 1000;

/** How long an interrupted cell's reply waits for stuck PEs to be restarted (the report is its output). */
const RECOVERY_WAIT_MS = 10_000;

function realFolder(folder: string): string {
  try {
    return realpathSync(folder);
  } catch {
    return resolve(folder);
  }
}

async function execute(id: number, code: string, cellName: string): Promise<void> {
  let done = false;
  let interrupting = false;
  let endWatch = (): void => undefined;
  const finish = (result: CellResult): void => {
    if (done) return;
    done = true;
    endWatch();
    const dropped = streamLimit.endCell();
    if (dropped) notice({ kind: "stream", name: "stderr", text: dropped });
    current = null;
    send({ type: "result", id, result });
    if (typeScriptWanted) preloadTypeScript();
  };
  const interrupt = (): void => {
    if (done || interrupting) return;
    interrupting = true;
    // The cell's script was stopped, or is abandoned pending: nothing is left to stop from outside
    // (a termination now would hit the recovery below), and the main thread stops retrying.
    Atomics.store(cellRunning, 0, 0);
    // Its evaluation may go on after an await (a loop): it ends where it next resumes (resumed.ts),
    // and the pool work it started stops on the PEs.
    interruptCell(id, cellName);
    send({ type: "interrupting", id });
    void interrupted().then(finish);
  };
  current = { id, finish, interrupt };
  // What the last cell's work still printed after it ended, dropped, is summarised here.
  const leftOver = streamLimit.startCell();
  if (leftOver) notice({ kind: "stream", name: "stderr", text: leftOver });
  try {
    // A cell that names a value the PEs have may assign it: it needs the syntax tree (not plain).
    const transpiled = transpileCell(code, cellName, runtime.reassigned.names);
    if (!transpiled.ok) {
      const traceback = transpiled.diagnostics.map((d) => `${cellName}:${d.line}:${d.column}: ${d.message}`);
      const first = transpiled.diagnostics[0];
      return finish({ status: "error", ename: "SyntaxError", evalue: `${first.message} (${cellName}:${first.line}:${first.column})`, traceback });
    }
    if (transpiled.remap) remaps.set(cellName, transpiled.remap);
    await runtime.whenReady().catch((error: Error) => notice({ kind: "stream", name: "stderr", text: `${error.message}\n` }));
    if (done || interrupting) return;
    // Declarations go to the PEs first, so they exist there before anything the cell sends.
    runtime.cellStarts(id, cellName);
    cellNames.set(id, cellName);
    const shipment = transpiled.plain ? { settled: Promise.resolve(undefined), js: transpiled.js } : runtime.ship(transpiled.js, cellName);
    // What the driver's copy inserted (awaits' interrupt check, assignments' reports) moved columns back first.
    const inserted = "remap" in shipment ? shipment.remap : undefined;
    if (inserted) {
      const emitted = transpiled.remap;
      remaps.set(cellName, emitted ? (p) => emitted(inserted(p)) : inserted);
    }
    endWatch = runtime.watch((text) => notice({ kind: "stream", name: "stderr", text }));
    // The main thread's interrupter stops a busy cell from outside only while this flag is set.
    Atomics.store(cellRunning, 0, 1);
    const evaluation = await evaluator.run(shipment.js).finally(() => {
      // An interrupted cell's evaluation may settle during a later cell: that one's flag stays.
      if (current?.id === id) Atomics.store(cellRunning, 0, 0);
    });
    if (evaluation.kind === "terminated") return interrupt();
    if (done || interrupting) return; // interrupted while it awaited: its outcome is nobody's news
    // A PE busy in a long entry method evaluates the declarations only after it: the cell doesn't
    // wait for that (`const X = 5` beside a 4 s call took 4 s; beside an endless loop, for good).
    const shipped = await settledWithin(shipment.settled, DECLARATIONS_WAIT_MS);
    if (shipped === TIMED_OUT) void shipment.settled.then((late) => late && notice({ kind: "stream", name: "stderr", text: late.replace("this cell's", `${cellName}'s`) }));
    else if (shipped) notice({ kind: "stream", name: "stderr", text: shipped });
    const stale = await runtime.assignmentsSettled();
    if (stale) notice({ kind: "stream", name: "stderr", text: stale });
    // What the cell's work printed on the PEs lands in the cell, before its reply.
    await runtime.settleOutput();
    if (done || interrupting) return;
    switch (evaluation.kind) {
      case "value":
        // `display.html(...)` as the last line already showed its output: no result echo.
        if ((evaluation.value as { [NO_RESULT]?: boolean } | null)?.[NO_RESULT] === true) return finish({ status: "ok" });
        if ((evaluation.value as { [DISPLAY_INSTEAD]?: boolean } | null)?.[DISPLAY_INSTEAD] === true) {
          display(evaluation.value);
          return finish({ status: "ok" });
        }
        return finish({ status: "ok", value: bundleOf(evaluation.value) });
      case "none":
        return finish({ status: "ok" });
      case "error":
        return finish(errorResult(evaluation.error, tracebacks, { cellName, line: evaluation.line, column: evaluation.column }));
      default:
        evaluation satisfies never;
    }
  } catch (error) {
    if (!interrupting) finish(errorResult(error, tracebacks));
  }
}

/**
 * The Interrupted result: what the cell left running on the PEs (its evalue; the main thread
 * words the rest), after PEs stuck in an entry method were found and restarted — that report is
 * the cell's output, before its reply, so it lands under the cell that was interrupted.
 */
async function interrupted(): Promise<CellResult> {
  const running = runtime.stillRunning().trim();
  const recovery = runtime.recoverStuckPes().catch((error: Error) => `charm4ts: checking the PEs after the interrupt failed: ${error.message}\n`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const slow = new Promise<undefined>((resolve) => (timer = safeSetTimeout(() => resolve(undefined), RECOVERY_WAIT_MS)));
  const report = await Promise.race([recovery, slow]).finally(() => safeClearTimeout(timer));
  if (report) notice({ kind: "stream", name: "stderr", text: report });
  if (report === undefined) {
    notice({ kind: "stream", name: "stderr", text: `charm4ts: restarting the PEs that did not answer takes over ${RECOVERY_WAIT_MS / 1000} s; what they held will be reported when it is done.\n` });
    void recovery.then((late) => { if (late) notice({ kind: "stream", name: "stderr", text: late }); });
  }
  return { status: "error", ename: "Interrupted", evalue: running, traceback: [] };
}

port.on("message", (message: ToWorker) => {
  // A comm handler an interrupt terminated never answered: this message is the first news of it.
  comms.settleCutShort();
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
      if (current?.id === message.id) current.interrupt();
      return;
    case "comm": {
      // Between the running cell's awaits: the handler runs now, and its outcome is the reply. With
      // no cell running, the flag lets an interrupt stop a handler stuck in a loop, as it stops a cell.
      const alone = current === null;
      if (alone) Atomics.store(cellRunning, 0, 1);
      comms.deliver(message.message, message.origin, (outcome) => {
        if (alone) Atomics.store(cellRunning, 0, 0);
        send({ type: "comm-handled", id: message.id, outcome });
      });
      return;
    }
    case "property-names":
      void propertyNames(message.expression, evaluator).then((names) =>
        send({ type: "property-names", id: message.id, names }),
      );
      return;
    case "close":
      evaluator.close();
      // The main thread ends this thread once the runtime has stopped (its sockets closed).
      void runtime.stop().catch(reportStray("Stopping the runtime")).finally(() => {
        send({ type: "closed" });
        port.close();
      });
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
