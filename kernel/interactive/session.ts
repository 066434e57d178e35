/**
 * The parallel runtime inside the kernel's cell thread (the driver): PEs start in the
 * background when the kernel starts, cells see the runtime's names as globals, and each cell's
 * shippable declarations reach every PE before anything the cell sends (messages from one
 * thread to a PE arrive in order, so a chare class always exists before its first creation).
 */
import { charm, Chare, Future, Channel, Reducer, ArrayMap, CharmError, PeLostError, RemoteError, barChart, lineChart } from "../../runtime/index.ts";
import { beforeNextSend, beginCell, canRestartOnePe, flushPeOutput, isRunning, pendingCalls, pendingCount, sentSince, suspendedAtQuiet, suspendedNotice, unresponsivePes, type CellMark } from "../../runtime/embedding.ts";
import { cellDeclarations } from "./shippable.ts";
import { DriverOnlyNames } from "./driver-only.ts";
import { Reassignments } from "./reassigned.ts";
import { ASSIGNED } from "./assignments.ts";
import { progress } from "./progress.ts";
import { bootPes } from "./boot.ts";
import { CollectionOrigins, charesOn } from "./lost-chares.ts";
import { LINES_KEPT, PeOutputLog } from "./pe-output.ts";

// Captured before any cell runs: a cell that replaces setTimeout can't disable the hang check.
const safeSetTimeout = setTimeout;
const safeClearTimeout = clearTimeout;
/** How long a cell waits before the hang check looks (Charm4Py's interactive check is similar). */
const HANG_CHECK_AFTER_MS = 1500;
/** How long a PE may take to answer after an interrupt before it counts as stuck. */
const PE_ANSWER_MS = 1000;
/** How long a cell's end waits for the PEs' output to catch up (settleOutput). */
const SETTLE_OUTPUT_MS = 250;
/** The label of the echo that flushes PE output at a cell's end: never something a user waits for. */
const OUTPUT_FLUSH = "the PEs' output";

function summarize(labels: string[]): string {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].map(([l, n]) => (n > 1 ? `${l} ×${n}` : l)).join(", ");
}

/** What a cell's `charm` has beyond the runtime's (notebook only). */
export interface NotebookCharm {
  /**
   * The last `lines` lines PE `pe` printed (default: all that are kept, up to 10,000), shown in
   * the notebook or not: output over the notebook's rate limit is dropped, but kept here.
   */
  output(pe: number, lines?: number): string[];
}

/** How shipping one cell's declarations went, reported once the cell has run. */
export interface CellShipment {
  /** Resolves with a warning for the cell's stderr, or undefined when every PE took them. */
  settled: Promise<string | undefined>;
  /** The cell's JavaScript for the driver, registering its classes as they are declared. */
  js: string;
  /** Maps a position in `js` back to the JavaScript given to ship (undefined: the same). */
  remap?: (position: { line: number; column: number }) => { line: number; column: number };
}

/** The kernel's runtime session: start-up, cell globals, and shipping declarations. */
export class InteractiveRuntime {
  private ready: Promise<void> | undefined;
  private cell: CellMark = { firstFuture: 0, sentBefore: 0 };
  private readonly origins = new CollectionOrigins();
  /** The last lines each PE printed, shown or not (`charm.output(pe)`). */
  readonly peOutput = new PeOutputLog();
  /** The cells' top-level names that the PEs don't have, to explain a chare's ReferenceError. */
  readonly driverOnly = new DriverOnlyNames();
  /** The cells' top-level names that the PEs have, and their values assigned since. */
  readonly reassigned = new Reassignments({ define: async (code, key) => { await charm.define(code, { replaces: key }); }, beforeNextSend });

  /** Starts the PEs in the background, unless the cell thread already did (boot.ts). */
  start(): void {
    this.ready = bootPes();
  }

  /**
   * Stops the PEs (once they have started) and closes the runtime's sockets. PE processes talk
   * over ZeroMQ, and a thread that ends with a ZeroMQ socket still receiving aborts the whole
   * process (zeromq.js#411): the kernel's thread ends only after this.
   */
  async stop(): Promise<void> {
    await this.ready?.catch(() => undefined);
    await charm.shutdown();
  }

  /** The names every cell sees. */
  globals(): Record<string, unknown> {
    this.addNotebookCharm();
    return { charm, Chare, Future, Channel, Reducer, ArrayMap, CharmError, PeLostError, RemoteError, progress, barChart, lineChart, [ASSIGNED]: this.reassigned.assigned };
  }

  /**
   * Adds what only a notebook's `charm` has to the runtime's (which never imports the kernel), on
   * the same object, so `charm` imported from "charm4ts" in a cell is still the cell's `charm`.
   */
  private addNotebookCharm(): void {
    const log = this.peOutput;
    const extra: NotebookCharm = {
      output(pe: number, lines = LINES_KEPT): string[] {
        if (!Number.isInteger(pe) || pe < 0) throw new CharmError(`charm.output(pe): pe must be a PE number (0 to ${charm.numPes() - 1}), got ${String(pe)}`);
        if (!Number.isInteger(lines) || lines < 0) throw new CharmError(`charm.output(pe, lines): lines must be a whole number of lines, got ${String(lines)}`);
        return log.last(pe, lines);
      },
    };
    for (const [name, value] of Object.entries(extra)) Object.defineProperty(charm, name, { value, configurable: true, writable: true });
  }

  /** Waits for the PEs (instant after the first cell); throws why they could not start. */
  async whenReady(): Promise<void> {
    try {
      await this.ready;
    } catch (err) {
      this.ready = undefined;
      throw new CharmError(`the PEs could not start: ${(err as Error).message}. Run charm.restart() in a cell to try again.`);
    }
  }

  /**
   * The hang check: while a cell runs, if futures homed here are pending and the whole runtime
   * is quiescent (no message anywhere), nothing can resolve them; say so once. The cell keeps
   * waiting — interrupt stops it. Returns the function that ends the watch.
   */
  watch(warn: (text: string) => void): () => void {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = async () => {
      if (stopped || !isRunning()) return;
      if (pendingCount() > 0) {
        await charm.waitQD();
        const pending = pendingCount();
        if (stopped || pending === 0) return;
        const suspended = suspendedAtQuiet();
        const futures = `${pending} future${pending === 1 ? "" : "s"} pending here`;
        warn(suspended === 0
          ? "charm4ts: this cell is waiting, but the runtime is quiescent — no message is in flight anywhere, " +
            `so the ${futures} can't be resolved. Did a chare forget to send its result or to contribute? Interrupt the cell to go on.\n`
          : suspendedNotice("this cell", futures, suspended, "Interrupt the cell to go on."));
        return;
      }
      timer = safeSetTimeout(check, HANG_CHECK_AFTER_MS);
    };
    timer = safeSetTimeout(check, HANG_CHECK_AFTER_MS);
    return () => {
      stopped = true;
      if (timer) safeClearTimeout(timer);
    };
  }

  /**
   * Marks where a cell begins: futures made after this are the cell's own, and every message
   * sent from now on carries `cause` (the cell's number), so the PEs' output can be traced to it.
   * `name` ("cell-3.ts") names the collections the cell makes in reports.
   */
  cellStarts(cause: number, name = ""): void {
    this.origins.cellStarts(name);
    this.cell = beginCell(cause);
  }

  /**
   * Before a cell that sent work to the PEs ends: one round trip to every PE. A PE answers after
   * everything it sent earlier, on the same ordered channel, so what the awaited work printed is
   * in before the cell's reply. Completion can take another path than the output: a
   * broadcast's awaitable is reduced over the PE tree, so PE 1's "done" reaches the driver through
   * PE 0 while its printed lines come straight, and were seen arriving after the cell had ended.
   * Bounded, so a PE busy with work the cell did not await doesn't hold the cell up: its answer
   * then resolves the future later, unobserved. Best effort: a lost PE doesn't fail the cell.
   */
  async settleOutput(): Promise<void> {
    if (sentSince(this.cell)) await flushPeOutput(SETTLE_OUTPUT_MS, OUTPUT_FLUSH);
  }

  /** After an interrupt: the calls the current cell left running, for its output ("" when none). */
  stillRunning(): string {
    // Calls made by earlier cells are what `await running` waits for.
    const { mine, earlier } = pendingCalls(this.cell, OUTPUT_FLUSH);
    const lines = [];
    if (mine.length) lines.push(`Interrupted while waiting for: ${summarize(mine)}.`);
    if (earlier.length) lines.push(`Still running from earlier cells: ${summarize(earlier)}.`);
    return lines.length ? `${lines.join("\n")}\n` : "";
  }

  /**
   * After an interrupt: checks that every PE still answers. A PE that doesn't (an entry method
   * in an endless loop) is restarted in place: its thread is stopped and a fresh one takes its
   * number, with the notebook's definitions. Its chares are lost, the other PEs' live on; the
   * returned text names what was lost, per collection ("" when all is well).
   */
  async recoverStuckPes(): Promise<string> {
    if (!isRunning()) return "";
    const stuck = await unresponsivePes(PE_ANSWER_MS);
    if (stuck.length === 0) return "";
    const report: string[] = [];
    if (!canRestartOnePe()) {
      // PE processes: one can't be restarted in place, so the runtime starts over.
      await charm.restart();
      return `PE${stuck.length > 1 ? "s" : ""} ${stuck.join(", ")} did not answer within ${PE_ANSWER_MS} ms (an endless loop?). ` +
        `The runtime was restarted on ${charm.numPes()} PEs; your classes and functions are kept, but all chares were lost — create them again.\n`;
    }
    for (const pe of stuck) {
      const lost = charesOn(pe, this.origins);
      await charm.restartPe(pe, `did not answer within ${PE_ANSWER_MS} ms (an endless loop?)`);
      const what = lost.length > 0
        ? `It was restarted, and the chares it held were lost:\n${lost.map((line) => `  ${line}\n`).join("")}Calls to them fail with PeLostError; `
        : "It was restarted; it held no chares this notebook made. ";
      report.push(`PE ${pe} did not answer within ${PE_ANSWER_MS} ms: an entry method there was still running (an endless loop?). ${what}` +
        "chares on the other PEs, your classes and functions are kept.\n");
    }
    return report.join("");
  }

  /**
   * Ships a cell's declarations to every PE, ahead of whatever the cell will send, and notes the
   * names only the driver will have (`cellName` says where they came from in errors). The cell's
   * JavaScript for the driver reports its assignments to names the PEs have (reassigned.ts).
   */
  ship(js: string, cellName = ""): CellShipment {
    const declarations = cellDeclarations(js, this.reassigned.names, cellName || undefined);
    this.driverOnly.declared(cellName, declarations);
    this.reassigned.declared(declarations);
    const { shippable, driverJs } = declarations;
    const remap = declarations.driverRemap;
    if (!shippable) return { settled: Promise.resolve(undefined), js: driverJs, remap };
    // What the PEs say back is about live chares of a redefined class that got new fields.
    const settled = charm.define(shippable.script).then(
      (upgrades) => upgrades,
      (err: Error) => {
        this.driverOnly.notShipped(cellName, declarations.shipped);
        this.reassigned.notShipped(declarations.shipped);
        return `charm4ts: this cell's declarations could not be evaluated on the PEs: ${err instanceof RemoteError ? err.remoteMessage : err.message}\n` +
          "PEs receive a cell's classes, functions and constant declarations; a value computed by a statement " +
          "(a call, an await, new …) exists only here — pass it to chares as an argument.\n";
      },
    );
    return { settled, js: driverJs, remap };
  }

  /**
   * When a cell has run: the values it assigned to names the PEs have, not sent yet, go now, and
   * the PEs have them when this resolves (or 250 ms passed). Resolves with a notice for the cell's
   * stderr about those the PEs couldn't get (undefined when all went).
   */
  assignmentsSettled(): Promise<string | undefined> {
    return this.reassigned.settle();
  }
}
