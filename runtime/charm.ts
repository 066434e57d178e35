/**
 * `charm`: the one object programs, chares and cells use — start, create, query, wait, end.
 * In a program run by charmrun, `charm.start(main)` starts the PEs and runs `main` on the
 * driver; on PE threads (which load the same program to find its chare classes) it does nothing.
 */
import { pathToFileURL } from "node:url";
import { CharmError, RemoteError } from "./protocol/errors.ts";
import { errorReport, fullStacks, reportLines } from "./protocol/error-report.ts";
import type { ErrorData } from "./protocol/messages.ts";
import { DRIVER } from "./protocol/ids.ts";
import { maybeRt, noteStoppedBecause, rt, setRuntime } from "./core/current.ts";
import { startLocalPes, type LocalPes } from "./driver/thread-pes.ts";
import { discardPrestarted } from "./driver/prestart.ts";
import { watchForHang } from "./driver/hang-watch.ts";
import type { ProcessPes } from "./driver/process-pes.ts";
import { maxHeapFrom } from "./startup/heap-limit.ts";
import { isPe } from "./startup/role.ts";
import { endOnClosedPipe, onClosedPipe } from "./startup/closed-pipes.ts";
import { launchedStart } from "./launcher/launched-job.ts";
import {
  balancerFrom, everySyncFrom, spinFrom, byHandFrom, heartbeatFrom, hostsFrom, layoutFrom, numPesFrom, restartFrom, transportFrom, type StartOptions,
} from "./start-options.ts";
import { registerSerializable } from "./protocol/codec.ts";
import { move } from "./protocol/moved.ts";
import { Future } from "./core/future.ts";
import { boundTarget, proxyRef } from "./core/proxy.ts";
import { iwait, waitAll, type Waitable } from "./channels/wait.ts";
import { define, definitionLog } from "./definitions/ship.ts";
import { runtimeStatus, type RuntimeStatus } from "./presentation/status.ts";
import { timeline } from "./presentation/trace.ts";
import { profile } from "./presentation/profile.ts";
import { poolMap, poolMapAsync, poolTask, resetPool } from "./pool/pool.ts";
import { scheduleCallableAfter } from "./core/timers.ts";
import { topology } from "./core/topology.ts";
import { sectionApi } from "./sections/api.ts";
import { registerBalancer } from "./lb/strategies.ts";
import { destroyCollection } from "./core/destroy.ts";
import type * as CheckpointDriver from "./checkpoint/driver.ts";
import type { RestartContinuing } from "./checkpoint/auto.ts";
import { autoRecovery, checkpointDriver, loadedAutoRecovery, loadedDriver } from "./checkpoint/on-demand.ts";
import type { Runtime } from "./core/runtime.ts";
import type { FutureState } from "./core/future.ts";
import type { FutureId } from "./protocol/ids.ts";
import type { BalancingRound } from "./lb/balancer.ts";
import type { CollectionProxy, ElementProxy } from "./core/proxy-types.ts";
import {
  awaitCreation, createArray, createGroup, createSingleton, createSparseArray, insertElement,
  type ArrayOptions, type ChareCtor, type ChareOptions, type CtorArgs,
} from "./core/create.ts";

export type { StartOptions };

/** The program's main function: runs on the driver once every PE is ready. */
export type MainFunction = (args: string[]) => unknown;

// Where charmrun leaves the compiled program's URL (a global: charmrun and the program may load
// different copies of this module's chunk graph in principle; Symbol.for is shared by all).
const ENTRY = Symbol.for("charm4ts.entryModule");
let pes: LocalPes | ProcessPes | undefined;
let lastOptions: StartOptions = {};
let pesFrom = ""; // where the running runtime's number of PEs came from, for charm.status()
let scriptMode = false;
let errorHandler: ((error: RemoteError) => void) | undefined;
let restoredValues: Record<string, any> | undefined; // the named values of the checkpoint restored at start
let peRestarting: Promise<void> | undefined; // charm.restartPe under way: a recovery's restart waits for it
const safeSetTimeout = setTimeout;

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
  // A lost PE nothing was waiting on (driver/pe-lost.ts) is news, not an error some code threw.
  const text = error.lost ? error.message : describeError(err);
  process.stderr.write(error.lost ? `charm4ts: ${text}\n` : `charm4ts: unhandled error (nobody awaited it):\n${text}\n`);
  // A PE's death (reported by the driver, about the PE) is what automatic recovery is for.
  if (scriptMode && !(loadedAutoRecovery()?.autoRecoveryArmed() && error.pe >= 0 && error.chare === undefined && error.method === undefined)) {
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
 * Compiles the program's modules and starts the PEs the options ask for (threads or processes).
 * `continuing`: the runtime before (automatic recovery), whose run the new one continues.
 */
async function bootPes(options: StartOptions, continuing?: { from: Runtime; kept: Array<[FutureId, FutureState]> }): Promise<void> {
  const every = everySyncFrom(options);
  const entry = (globalThis as any)[ENTRY] as string | undefined ?? (process.argv[1] ? pathToFileURL(process.argv[1]).href : undefined);
  const wanted = options.modules?.map(String) ?? (entry ? [entry] : []);
  // Compiling and ssh are loaded only when asked for: every PE thread and the kernel's cell thread
  // load this module, and what those two bring (child_process, crypto, …) costs each thread's start.
  const modules = wanted.length === 0 ? [] : await compileAll(wanted);
  lastOptions = { ...options, modules: wanted };
  // Under mpirun/srun (charmrun on rank 0), the launcher's ranks are the PEs.
  const launched = launchedStart(options.numPes);
  // charmrun ++nodelist/++hosts (CHARM4TS_HOSTS): every PE is a process started over ssh.
  const hosts = hostsFrom(options);
  const ssh = launched || !hosts.CHARM4TS_HOSTS ? undefined : await (await import("./launcher/ssh-launch.ts")).sshStart(hosts);
  // Over ssh and under a launcher every PE is in a process (several with +ppn): "threads" can't mean threads there.
  const asked = transportFrom(options);
  const transport = (ssh || launched) && asked === "threads" ? "processes" : asked;
  const counted = launched ? { count: launched.numPes, source: "the launcher's ranks" } : numPesFrom(options);
  const layout = layoutFrom(options, transport, counted.count);
  // A launcher's ranks are PE processes: with +ppn N each hosts N PEs.
  const numPes = launched ? counted.count * layout.pesPerProcess : counted.count;
  const countedFrom = launched && layout.pesPerProcess > 1 ? `${counted.source} × ${layout.pesPerProcess} PEs each` : counted.source;
  if (launched && layout.localPes > 0) throw new CharmError("+mixed (localPes) isn't supported with a launcher (mpirun, srun) yet: there every PE is in a rank's process");
  const byHand = options.attach === undefined ? undefined : byHandFrom(options, { launched: !!launched, ssh: !!ssh, transport, numPes, layout });
  const bind = options.bind === undefined ? {} : { host: options.bind };
  const processOptions = { ...launched?.options, ...ssh, ...byHand, ...bind, heartbeat: heartbeatFrom(options), maxHeapMb: maxHeapFrom(options.peMaxHeapMb), ...layout };
  // ZeroMQ (a native addon) is loaded only when PEs are processes: thread PEs start without it.
  const startPes = launched || ssh || transport !== "threads" ? (await import("./driver/process-pes.ts")).startProcessPes : startLocalPes;
  pes = await startPes(numPes, modules, {
    onUnhandled,
    onOutput: options.onOutput,
    onExit: (code, reason) => { if (reason) process.stderr.write(`${reason}\n`); void exitProgram(code); },
  }, { definitions: definitionLog(), interactive: options.interactive ?? false, balancer: balancerFrom(options), spinUs: spinFrom(options) }, processOptions);
  if (continuing) pes.runtime.continueFrom(continuing.from, continuing.kept);
  setRuntime(pes.runtime, continuing !== undefined);
  pesFrom = countedFrom;
  if (every > 0) (await autoRecovery()).armAutoRecovery(pes.runtime, every, restartContinuing);
}

/** Automatic recovery's restart: every PE again, with the same options; the new runtime continues this one's run (ids, `kept` futures). */
const restartContinuing: RestartContinuing = async (kept) => {
  await peRestarting;
  const old = pes?.runtime;
  if (!old) throw new CharmError("the runtime was shut down during recovery");
  for (const [fid] of kept) old.futures.delete(fid); // carried over, not rejected by the shutdown
  await shutdown(true);
  await bootPes(lastOptions, { from: old, kept }).finally(discardPrestarted);
};

async function start(mainOrOptions?: MainFunction | StartOptions, maybeOptions?: StartOptions): Promise<void> {
  if (isPe()) return; // PEs load the program only for its classes
  const main = typeof mainOrOptions === "function" ? mainOrOptions : undefined;
  const options = (typeof mainOrOptions === "object" ? mainOrOptions : maybeOptions) ?? {};
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

/** Boots the PEs, then restores the checkpoint the options name (restart, +restart DIR, CHARM4TS_RESTART), if any. */
async function bootAndRestore(options: StartOptions): Promise<void> {
  // PE threads started ahead of this start (charmrun, the kernel: driver/prestart.ts) that it
  // didn't adopt (another number of PEs, PE processes, a start that failed) end now.
  await bootPes(options).finally(discardPrestarted);
  const restartDir = restartFrom(options);
  if (restartDir) restoredValues = await restore(restartDir);
}

/** Stops the PEs and starts them again (same modules, definitions and options, but for those given; a new transport drops the old one's). */
async function restart(options: StartOptions = {}): Promise<void> {
  await shutdown();
  const next = { ...lastOptions, ...options };
  // Options of the old transport don't carry over to one a restart picks (unless given again):
  // PEs attached by hand, a mixed runtime's local PEs, PEs per process.
  if (options.transport !== undefined) {
    for (const key of ["attach", "hosts", "localPes", "pesPerProcess"] as const) if (!(key in options)) delete next[key];
  }
  await start(next);
}

/**
 * Restarts one PE in place (threads only): its thread is stopped, even in an endless loop, and a
 * fresh one takes its number. Its chares are lost; calls to them fail with PeLostError; chares
 * on the other PEs, and the notebook's definitions, carry on.
 */
async function restartPe(pe: number, why = "was restarted by charm.restartPe"): Promise<void> {
  if (!pes || !("restartPe" in pes)) throw new CharmError("charm.restartPe(pe) restarts a PE thread; with PE processes use charm.restart()");
  if (!Number.isInteger(pe) || pe < 0 || pe >= pes.runtime.numPes) throw new CharmError(`charm.restartPe(pe): pe must be a PE number in 0…${pes.runtime.numPes - 1}`);
  const restarting = pes.restartPe(pe, why);
  peRestarting = restarting.catch(() => undefined);
  await restarting;
}

/** Stops the PEs; `continuing`: for automatic recovery, which starts them again at once (in-memory checkpoint and ids kept). */
async function shutdown(continuing = false): Promise<void> {
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
const checkpoint: typeof CheckpointDriver.checkpoint = async (...args) => {
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
const restore: typeof CheckpointDriver.restore = async (dir) => (await checkpointDriver()).restore(dir);

async function exitProgram(code: number): Promise<void> {
  const runtime = maybeRt();
  if (runtime && !runtime.isDriver) {
    runtime.send(DRIVER, { t: "exit", code });
    return;
  }
  await shutdown();
  if (scriptMode) process.exit(code);
}

/** The runtime's API, the same on the driver and on every PE. */
export const charm = {
  /** Starts the PEs (then runs `main` on the driver, and ends the program once all is quiet). */
  start,
  /** Stops the PEs without ending the process (tests, notebooks); `start` may be called again. */
  shutdown: (): Promise<void> => shutdown(),
  /** Stops and starts the PEs again, e.g. with another number of PEs: `charm.restart({ numPes: 4 })`. Chares are lost. */
  restart,
  /** Restarts one PE thread in place; its chares are lost, the others carry on. */
  restartPe,
  /** Creates a dense N-D array of chares: `charm.array(Hello, 8)`, `charm.array(Cell, [4, 4], { args })`. */
  array<C extends ChareCtor>(cls: C, dims: number | readonly number[], ...options: [] extends CtorArgs<C> ? [options?: ArrayOptions<CtorArgs<C>>] : [options: ArrayOptions<CtorArgs<C>> & { args: CtorArgs<C> }]): CollectionProxy<InstanceType<C>> {
    return createArray(cls, dims, options[0]);
  },
  /** Creates a group: one chare on every PE. */
  group<C extends ChareCtor>(cls: C, ...options: [] extends CtorArgs<C> ? [options?: { args?: CtorArgs<C> }] : [options: { args: CtorArgs<C> }]): CollectionProxy<InstanceType<C>> {
    return createGroup(cls, options[0]);
  },
  /** Creates one chare (Charm4Py's `Chare(cls, args=[…], onPE=…)`). */
  chare<C extends ChareCtor>(cls: C, ...rest: [] extends CtorArgs<C> ? [args?: CtorArgs<C>, options?: ChareOptions] : [args: CtorArgs<C>, options?: ChareOptions]): ElementProxy<InstanceType<C>> {
    return createSingleton(cls, rest[0] ?? [], rest[1]);
  },
  /** Creates an empty sparse array (elements added with charm.insert). */
  sparseArray<C extends ChareCtor>(cls: C, options?: { ndims?: number; map?: ArrayOptions["map"] }): CollectionProxy<InstanceType<C>> {
    return createSparseArray(cls, options);
  },
  /** Inserts an element into a sparse array. */
  insert<C>(proxy: CollectionProxy<C>, index: number | readonly number[], args?: unknown[]): void {
    insertElement(proxy, index, args);
  },
  /** Ends insertion into a sparse array: reductions and broadcast replies over it work after this. */
  doneInserting<C>(proxy: CollectionProxy<C>): Promise<void> {
    const ref = proxyRef(proxy);
    if (!ref || ref.kind !== "sparse" || ref.idx) throw new CharmError("charm.doneInserting(proxy): proxy must be a sparse array's proxy");
    return rt().census.run(ref.cid);
  },
  /** Resolves when the given collections have been created on every PE that holds them. */
  awaitCreation,
  /** Ends a collection on every PE (Charm++'s ckDestroy); resolves with how many elements were destroyed. */
  destroy: destroyCollection,
  /** Saves every collection's elements and the named values (proxies, futures, data) to a directory, or `{ inMemory: true }`, at quiescence. */
  checkpoint,
  /** After a PE was lost: restarts the runtime and goes back to the last in-memory checkpoint; resolves with its named values. */
  recover: async <T extends Record<string, any> = Record<string, any>>(): Promise<T> => (await checkpointDriver()).recover<T>(() => restart()),
  /** Recreates a checkpoint's collections on this runtime's PEs (any number); resolves with its named values. */
  restore,
  /** The named values of the checkpoint restored at start (`+restart DIR`, `{ restart }`); undefined after a fresh start. */
  restored: <T extends Record<string, any> = Record<string, any>>(): T | undefined => restoredValues as T | undefined,
  /** The load-balancing rounds of an array so far: per-PE load before and after each, and what moved. */
  lbHistory(proxy: unknown): Future<BalancingRound[]> {
    const ref = proxyRef(proxy);
    if (!ref || ref.idx || ref.kind !== "array") throw new CharmError("charm.lbHistory(proxy): proxy must be an array's proxy (from charm.array)");
    const runtime = rt();
    // The history lives on the array's root PE: once that PE is dead, the history is gone too.
    const root = runtime.rootPe(ref);
    runtime.failures.check(root, "charm.lbHistory(proxy)");
    const f = new Future<BalancingRound[]>();
    runtime.futures.get(f.id)!.on = root; // its death rejects the future instead of leaving it pending
    runtime.send(root, { t: "lbHistory", cid: ref.cid, fid: f.id });
    return f;
  },
  /** Makes a load-balancing strategy selectable by name (call it in the module every PE loads). */
  registerBalancer,
  /** This PE's number (-1 on the driver, which hosts no chares). */
  myPe: (): number => rt().self,
  /** The number of PEs. */
  numPes: (): number => rt().numPes,
  /** Yields futures and channels in the order they become ready. */
  iwait,
  /** Waits until every future and channel given is ready. */
  wait: (items: Iterable<Waitable>): Promise<void> => waitAll(items),
  /** Resolves when the whole runtime is quiescent (no message in flight or being handled). */
  waitQD(): Promise<void> {
    const runtime = rt();
    if (runtime.isDriver) return runtime.quiescence.whenQuiet();
    const done = new Future<void>();
    runtime.quiescence.startQD({ k: "future", fid: done.id });
    return Promise.resolve(done);
  },
  /** Calls a target (a Future or a bound entry method) once the runtime is quiescent. */
  startQD(target: Future<any> | ((...args: any[]) => unknown)): void {
    const t = target instanceof Future ? { k: "future" as const, fid: target.id } : boundTarget(target);
    if (!t) throw new CharmError("charm.startQD(target): target must be a Future or a bound entry method");
    rt().quiescence.startQD(t);
  },
  /**
   * Resolves once nothing this endpoint sent (to PE `pe`, or to anyone) waits here for room.
   * With PE processes, each receiver grants credit for what it has handled and at most a window
   * (4 MiB) per peer is in flight; beyond it, messages wait in the sender, encoded and in order
   * (sends never block). A loop that sends a lot awaits this now and then, so a slow receiver
   * slows it down instead of its waiting messages growing without bound. With threads: at once.
   */
  drained(pe?: number): Promise<void> {
    const transport = rt().transport;
    if (pe !== undefined && (!Number.isInteger(pe) || pe < -1 || pe >= rt().numPes)) throw new CharmError(`charm.drained(pe): pe must be a PE number in 0…${rt().numPes - 1} (or -1, the driver)`);
    return transport.drained ? transport.drained(pe) : Promise.resolve();
  },
  /** Resolves after `seconds` (use inside async entry methods; other messages run meanwhile). */
  sleep(seconds: number): Promise<void> {
    // A pending sleep counts as a message in flight: quiescence can't be declared while a chare sleeps.
    const done = maybeRt()?.scheduler.traffic.pending();
    return new Promise((resolve) => safeSetTimeout(() => { done?.(); resolve(); }, seconds * 1000));
  },
  /** Calls a Future, a bound entry method or a function after `seconds`, with `args`. */
  scheduleCallableAfter,
  ...topology,
  /** Sections: `charm.split(proxy, n, { by } | { elems })` and `charm.combine(...proxies)`; multicast to their members. */
  ...sectionApi,
  /** Ends the program (from the driver or any PE). */
  exit: (code = 0): Promise<void> => exitProgram(code),
  /** Ends the program with an error message. */
  abort(message: string): Promise<void> {
    const runtime = maybeRt();
    if (runtime && !runtime.isDriver) { runtime.send(DRIVER, { t: "exit", code: 1, reason: `charm.abort on PE ${runtime.self}: ${message}` }); return Promise.resolve(); }
    process.stderr.write(`charm.abort: ${message}\n`);
    return exitProgram(1);
  },
  /** Gives a typed array up for its next send: its memory moves to the receiver instead of a copy, and it is empty here after. */
  move,
  /** Lets instances of a class cross PEs (own fields copied, prototype restored); call on every PE. Throws for WeakMap, Promise and other built-ins whose state can't be copied. */
  serializable<T extends abstract new (...args: any[]) => unknown>(cls: T): T {
    registerSerializable(cls);
    return cls;
  },
  /**
   * Ships a JavaScript definition script to every PE, now and when PEs start later: what a
   * notebook does with a cell's declarations. The script may end with
   * `__charm4tsDefine([ClassA, fn, …])` to register what it declared (chare classes by name;
   * other classes become serializable; a redefined chare class upgrades live chares).
   */
  define,
  /** The task pool: `await charm.pool.map(fn, items)`, `await charm.pool.task(fn, arg)`; `fn` is a named function every PE knows. */
  pool: { map: poolMap, mapAsync: poolMapAsync, task: poolTask },
  /** Runs `work` with every PE recording its entry methods; a timeline per PE (an SVG in a notebook). */
  timeline,
  /** Runs `work` and returns calls and time per entry method (a table; `.print()` in scripts). */
  profile,
  /** Every PE's chares, classes and message counts, and where the number of PEs came from (a table in a notebook). */
  status: (): Promise<RuntimeStatus> => runtimeStatus(pesFrom),
  /** Where errors nobody awaited go (default: printed; a script then ends with code 1). */
  onError(handler: ((error: RemoteError) => void) | undefined): void {
    errorHandler = handler;
  },
};

