/**
 * The runtime's life on the driver: start (boot the PEs, run a script's main, end it once all is
 * quiet), restart, shutdown, and the end of a program — the state `charm` keeps between them.
 * On PE threads (which load the same program to find its chare classes) `start` does nothing.
 */
import { CharmError, RemoteError } from "./protocol/errors.ts";
import { errorReport, fullStacks, reportLines } from "./protocol/error-report.ts";
import type { ErrorData } from "./protocol/messages.ts";
import { DRIVER } from "./protocol/ids.ts";
import { maybeRt, noteStoppedBecause, setRuntime } from "./core/current.ts";
import { startLocalPes, type LocalPes } from "./driver/thread-pes.ts";
import { discardPrestarted } from "./driver/prestart.ts";
import { peLayout } from "./driver/layout.ts";
import { watchForHang } from "./driver/hang-watch.ts";
import type { ProcessPes } from "./driver/process-pes.ts";
import { oversubscribedWarning } from "./pe-count.ts";
import { isPe } from "./startup/role.ts";
import { endOnClosedPipe, onClosedPipe } from "./startup/closed-pipes.ts";
import { launchedStart } from "./launcher/launched-job.ts";
import { knownOptions, restartFrom, type StartOptions } from "./start-options.ts";
import { startPlan, type StartPlan } from "./start-plan.ts";
import { definitionLog } from "./definitions/ship.ts";
import { resetPool } from "./pool/pool.ts";
import type * as CheckpointDriver from "./checkpoint/driver.ts";
import type { RestartContinuing } from "./checkpoint/auto.ts";
import { autoRecovery, checkpointDriver, loadedAutoRecovery, loadedDriver } from "./checkpoint/on-demand.ts";
import type { Runtime } from "./core/runtime.ts";
import type { FutureState } from "./core/future.ts";
import type { FutureId } from "./protocol/ids.ts";


/** The program's main function: runs on the driver once every PE is ready. */
export type MainFunction = (args: string[]) => unknown;

// Set by the first charm.start on the driver: charmrun tells a program that never called it so.
const STARTED = Symbol.for("charm4ts.started");
let pes: LocalPes | ProcessPes | undefined;
let lastOptions: StartOptions = {};
let pesFrom = ""; // where the running runtime's number of PEs came from, for charm.status()
let scriptMode = false;
let errorHandler: ((error: RemoteError) => void) | undefined;
let restoredValues: Record<string, any> | undefined; // the named values of the checkpoint restored at start
let peRestarting: Promise<void> | undefined; // charm.restartPe under way: a recovery's restart waits for it

/** The program's arguments without the runtime's own (+pN, +balancer NAME, +processes, +mixed, +ppn N, +restart DIR, +checkpoint-every N). */
function withoutRuntimeFlags(argv: string[]): string[] {
  const valued = ["+balancer", "+ppn", "+restart", "+checkpoint-every"];
  return argv.filter((a, i) => !/^\+p\d+$/.test(a) && a !== "+processes" && a !== "+mixed" && !valued.includes(a) && !valued.includes(argv[i - 1]!));
}

/** An error for a script's stderr: the program's frames only, paths relative to where it runs. */
function describeError(err: unknown): string {
  return reportLines(errorReport(err, { full: fullStacks(), base: process.cwd() })).join("\n");
}

function onUnhandled(error: ErrorData): void {
  const err = new RemoteError(error);
  if (errorHandler) { errorHandler(err); return; }
  // A PE's death (reported by the driver, about the PE), and an entry method that failed because
  // of it (a call or a channel to a chare there), are what automatic recovery is for: it rolls
  // every chare back to the last checkpoint, so they don't end a script.
  const recovering = loadedAutoRecovery()?.autoRecoveryArmed() === true &&
    (error.name === "PeLostError" || (error.pe >= 0 && error.chare === undefined && error.method === undefined));
  // A lost PE nothing was waiting on (driver/pe-lost.ts) is news, not an error some code threw.
  const text = error.lost ? error.message : describeError(err);
  const heading = recovering ? "failed because of a lost PE; automatic recovery rolls it back" : "unhandled error (nobody awaited it)";
  process.stderr.write(error.lost ? `charm4ts: ${text}\n` : `charm4ts: ${heading}:\n${text}\n`);
  if (scriptMode && !recovering) {
    noteStoppedBecause(error.lost ? text.split(". ")[0]! : text.split("\n")[0]!);
    void exitProgram(1);
  }
}

/** The program modules compiled for the PEs (launcher/compile.ts). */
async function compileAll(modules: string[]): Promise<string[]> {
  const { compileProgram } = await import("./launcher/compile.ts");
  return Promise.all(modules.map((m) => compileProgram(m)));
}

/**
 * Compiles the program's modules and starts the PEs a checked plan asks for (threads or processes).
 * `continuing`: the runtime before (automatic recovery), whose run the new one continues.
 */
async function bootPes(plan: StartPlan, continuing?: { from: Runtime; kept: Array<[FutureId, FutureState]> }): Promise<void> {
  const { options, layout, numPes, transport } = plan;
  // Compiling and ssh are loaded only when asked for: every PE thread and the kernel's cell thread
  // load this module, and what those two bring (child_process, crypto, …) costs each thread's start.
  const modules = plan.modules.length === 0 ? [] : await compileAll(plan.modules);
  lastOptions = { ...options, modules: plan.modules };
  // Under mpirun/srun (charmrun on rank 0), the launcher's ranks are the PEs.
  const launched = plan.launchedRanks === undefined ? undefined : launchedStart(options.numPes);
  // charmrun ++nodelist/++hosts (CHARM4TS_HOSTS): every PE is a process started over ssh.
  const ssh = plan.ssh ? await (await import("./launcher/ssh-launch.ts")).sshStart(plan.sshEnv) : undefined;
  // PEs this host runs itself (not a launcher's or ssh's ranks, nor attached by hand): far more than its CPUs is said.
  const onThisHost = launched || ssh || options.attach !== undefined ? 0 : numPes;
  const crowded = oversubscribedWarning(onThisHost);
  if (crowded) process.stderr.write(`${crowded}\n`);
  const bind = options.bind === undefined ? {} : { host: options.bind };
  const processOptions = { ...launched?.options, ...ssh, ...plan.byHand, ...bind, heartbeat: plan.heartbeat, maxHeapMb: plan.maxHeapMb, ...layout };
  // ZeroMQ (a native addon) is loaded only when PEs are processes: thread PEs start without it.
  const startPes = launched || ssh || transport !== "threads" ? (await import("./driver/process-pes.ts")).startProcessPes : startLocalPes;
  pes = await startPes(numPes, modules, {
    onUnhandled,
    onOutput: options.onOutput,
    onExit: (code, reason) => { if (reason) process.stderr.write(`${reason}\n`); void exitProgram(code); },
  }, { definitions: definitionLog(), interactive: options.interactive ?? false, balancer: plan.balancer, spinUs: plan.spinUs }, processOptions);
  if (continuing) pes.runtime.continueFrom(continuing.from, continuing.kept);
  setRuntime(pes.runtime, continuing !== undefined);
  // Which process each PE is in: an in-memory checkpoint's copies go to another process.
  if (startPes !== startLocalPes) {
    const slots = peLayout(numPes, layout.localPes, layout.pesPerProcess).slotOf;
    pes.runtime.peProcess = (pe) => slots[pe] ?? -1;
  }
  pesFrom = plan.countedFrom;
  if (plan.everySync > 0) (await autoRecovery()).armAutoRecovery(pes.runtime, plan.everySync, restartContinuing);
}

/** Automatic recovery's restart: every PE again, with the same options; the new runtime continues this one's run (ids, `kept` futures). */
const restartContinuing: RestartContinuing = async (kept, from) => {
  await peRestarting;
  // No runtime left: the restart before this one failed (a PE lost before it was ready).
  const old = pes?.runtime ?? from;
  const plan = startPlan(lastOptions);
  for (const [fid] of kept) old.futures.delete(fid); // carried over, not rejected by the shutdown
  await shutdown(true);
  await bootPes(plan, { from: old, kept }).finally(discardPrestarted);
};

/** charm.start: boots the PEs; with `main`, runs it on the driver and ends the program once all is quiet (a script). */
export async function start(mainOrOptions?: MainFunction | StartOptions, maybeOptions?: StartOptions): Promise<void> {
  if (isPe()) return; // PEs load the program only for its classes
  (globalThis as any)[STARTED] = true;
  const main = typeof mainOrOptions === "function" ? mainOrOptions : undefined;
  // Options that aren't an object (`charm.start(4)`) are refused when the plan is made, not dropped.
  const options = (typeof mainOrOptions === "function" ? maybeOptions : mainOrOptions) ?? {};
  if (maybeRt() || starting) {
    // A second start while the first boots went unseen before: its main never ran, and nothing said so.
    const again = new CharmError(starting
      ? "charm.start was called again while an earlier charm.start was still starting the PEs: a program starts the runtime once (to start it again, await charm.shutdown() first)"
      : "the runtime is already running; call charm.shutdown() before starting it again");
    if (!main) throw again;
    // A script's: ends it as an error of main does (the message alone, exit 1).
    process.stderr.write(`${describeError(again)}\n`);
    await exitProgram(1);
    return;
  }
  scriptMode = main !== undefined;
  // A script's output piped into `head` ends it quietly once head stops reading (not in a notebook: the kernel's streams are its own).
  if (scriptMode) {
    endOnClosedPipe();
    onClosedPipe(() => void exitProgram(0));
  }
  restoredValues = undefined;
  if (!main) {
    await bootStarting(options);
    return;
  }
  // A script's start that fails (a wrong option or environment variable, a PE that can't boot)
  // ends it as an error of main does: the message alone, exit 1, not an unhandled rejection
  // that prints the runtime's own frames.
  try {
    await bootStarting(options);
    const stopWatching = watchForHang(maybeRt()!);
    try {
      await main(options.args ?? withoutRuntimeFlags(process.argv.slice(1)));
    } finally {
      stopWatching();
    }
    const runtime = maybeRt();
    if (!runtime) return; // main called charm.exit()
    await runtime.quiescence.whenQuiet(); // a program ends by itself once main returned and all is quiet
    if (maybeRt() === runtime) await exitProgram(0);
  } catch (err) {
    process.stderr.write(`${describeError(err)}\n`);
    await exitProgram(1);
  }
}

// A start is booting the PEs (the runtime isn't installed yet): another start now is refused.
let starting = false;

/** bootAndRestore, marked as a start in progress. */
async function bootStarting(options: StartOptions): Promise<void> {
  starting = true;
  try {
    await bootAndRestore(options);
  } finally {
    starting = false;
  }
}

/** Checks the options in full, boots the PEs, then restores the checkpoint the options name (restart, +restart DIR, CHARM4TS_RESTART), if any. */
async function bootAndRestore(options: StartOptions): Promise<void> {
  // PE threads started ahead of this start (charmrun, the kernel: driver/prestart.ts) that it
  // didn't adopt (another number of PEs, PE processes, a start that failed) end now.
  let restartDir: string | undefined;
  try {
    const plan = startPlan(options);
    restartDir = restartFrom(plan.options);
    await bootPes(plan);
  } finally {
    discardPrestarted();
  }
  if (restartDir) restoredValues = await restore(restartDir);
}

/**
 * Stops the PEs and starts them again (same modules, definitions and options, but for those given;
 * a new transport drops the old one's). The options are checked first: a wrong one throws, and
 * leaves the runtime running and the remembered options as they were.
 */
export async function restart(options: StartOptions = {}): Promise<void> {
  const next = { ...lastOptions, ...knownOptions(options) };
  // Options of the old transport don't carry over to one a restart picks (unless given again):
  // PEs attached by hand, a mixed runtime's local PEs, PEs per process.
  if (options.transport !== undefined) {
    for (const key of ["attach", "hosts", "localPes", "pesPerProcess"] as const) if (!(key in options)) delete next[key];
  }
  restartFrom(startPlan(next).options);
  await shutdown();
  await start(next);
}

/**
 * Restarts one PE in place (threads only): its thread is stopped, even in an endless loop, and a
 * fresh one takes its number. Its chares are lost; calls to them fail with PeLostError; chares
 * on the other PEs, and the notebook's definitions, carry on.
 */
export async function restartPe(pe: number, why = "was restarted by charm.restartPe"): Promise<void> {
  if (!pes || !("restartPe" in pes)) throw new CharmError("charm.restartPe(pe) restarts a PE thread; with PE processes use charm.restart()");
  if (!Number.isInteger(pe) || pe < 0 || pe >= pes.runtime.numPes) throw new CharmError(`charm.restartPe(pe): pe must be a PE number in 0…${pes.runtime.numPes - 1}`);
  const restarting = pes.restartPe(pe, why);
  peRestarting = restarting.catch(() => undefined);
  await restarting;
}

/** Stops the PEs; `continuing`: for automatic recovery, which starts them again at once (in-memory checkpoint and ids kept). */
export async function shutdown(continuing = false): Promise<void> {
  const running = pes;
  pes = undefined;
  if (!continuing) {
    loadedDriver()?.forgetInMemory();
    loadedAutoRecovery()?.disarmAutoRecovery();
  }
  resetPool();
  if (running) running.runtime.scheduler.closed = true;
  setRuntime(undefined, continuing);
  await running?.stop();
  // Nothing can answer the driver's pending futures any more: reject them rather than hang their awaiters.
  const pending = running ? [...running.runtime.futures.values()] : [];
  running?.runtime.futures.clear();
  for (const state of pending) state.reject(new CharmError("the runtime was shut down before this future completed"));
}

/** charm.checkpoint (the checkpoint code loads on first use: checkpoint/on-demand.ts). */
export const checkpoint: typeof CheckpointDriver.checkpoint = async (...args) => {
  // What the driver sends once the call is made goes after the save (checkpoint/moment.ts), even
  // while the checkpoint code loads: held from here until the checkpoint holds it itself.
  const runtime = maybeRt();
  const release = runtime?.isDriver ? runtime.holdSends() : undefined;
  try {
    const driver = await checkpointDriver();
    return driver.checkpoint(...args);
  } finally {
    release?.();
  }
};

/** charm.restore, likewise. */
export const restore: typeof CheckpointDriver.restore = async (dir) => (await checkpointDriver()).restore(dir);

/** Ends the program: from a PE, asks the driver; on the driver, stops the PEs (and a script's process, with `code`). */
export async function exitProgram(code: number): Promise<void> {
  const runtime = maybeRt();
  if (runtime && !runtime.isDriver) {
    runtime.send(DRIVER, { t: "exit", code });
    return;
  }
  await shutdown();
  if (scriptMode) process.exit(code);
}

/** The named values of the checkpoint restored at start, if any (charm.restored). */
export function restoredAtStart(): Record<string, any> | undefined {
  return restoredValues;
}

/** Where the running runtime's number of PEs came from (+pN, an option, the launcher…), for charm.status. */
export function pesCountedFrom(): string {
  return pesFrom;
}

/** Where errors nobody awaited go (charm.onError); undefined: printed, and a script ends with code 1. */
export function setErrorHandler(handler: ((error: RemoteError) => void) | undefined): void {
  errorHandler = handler;
}
