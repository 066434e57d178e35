/**
 * `charm`: the one object programs, chares and cells use — start, create, query, wait, end.
 * In a program run by charmrun, `charm.start(main)` starts the PEs and runs `main` on the
 * driver; on PE threads (which load the same program to find its chare classes) it does nothing.
 */
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { CharmError, RemoteError, formatErrorData } from "./protocol/errors.ts";
import type { ErrorData } from "./protocol/messages.ts";
import { maybeRt, rt, setRuntime } from "./core/current.ts";
import { startLocalPes, type LocalPes } from "./pe/driver.ts";
import type { ProcessOptions, ProcessPes } from "./pe/process-driver.ts";
import { heartbeatFor, type HeartbeatTiming } from "./pe/heartbeat.ts";
import { maxHeapFrom } from "./pe/heap-limit.ts";
import { isPe } from "./pe/role.ts";
import { launchedStart } from "./launcher/launched-job.ts";
import { sshStart } from "./launcher/ssh-launch.ts";
import { byHandStart } from "./launcher/by-hand.ts";
import { peLayout } from "./pe/pe-layout.ts";
import { compileProgram } from "./launcher/compile.ts";
import { registerSerializable } from "./protocol/codec.ts";
import { Future } from "./core/future.ts";
import { boundTarget, proxyRef } from "./core/proxy.ts";
import { iwait, waitAll, type Waitable } from "./channels/wait.ts";
import { define, definitionLog } from "./interactive/define.ts";
import { runtimeStatus } from "./interactive/status.ts";
import { timeline } from "./interactive/trace.ts";
import { profile } from "./interactive/profile.ts";
import { poolMap, poolMapAsync, poolTask, resetPool } from "./pool/pool.ts";
import { scheduleCallableAfter } from "./core/timers.ts";
import { topology } from "./core/topology.ts";
import { sectionApi } from "./sections/api.ts";
import { checkBalancerName, registerBalancer } from "./lb/strategies.ts";
import type { BalancingRound } from "./lb/balancer.ts";
import type { CollectionProxy, ElementProxy } from "./core/proxy-types.ts";
import {
  awaitCreation, createArray, createGroup, createSingleton, createSparseArray, insertElement,
  type ArrayOptions, type ChareCtor, type ChareOptions, type CtorArgs,
} from "./core/create.ts";

/** How to start the runtime. */
export interface StartOptions {
  /** Number of PEs (default: `+pN` on the command line, CHARM4TS_PES, or the number of cores). */
  numPes?: number;
  /** Modules every PE loads to find chare classes (default: the program itself). */
  modules?: Array<string | URL>;
  /** Arguments passed to main (default: the program path and its arguments, `+pN` removed). */
  args?: string[];
  /**
   * Notebook mode: PEs print through the driver, lines marked "[PE n]", and a creation whose
   * class the notebook's definitions haven't brought yet waits for it briefly. Scripts: off.
   */
  interactive?: boolean;
  /**
   * The load-balancing strategy for arrays created with `useAtSync` that don't name one:
   * "greedy" (default), "refine", "orb", "rotate", "random", "none", or a registered name. Also
   * `+balancer NAME` on the command line, or CHARM4TS_BALANCER.
   */
  balancer?: string;
  /** Notebook mode: where PE output goes, with the cause (cell) of the work that printed it. */
  onOutput?: (stream: "stdout" | "stderr", text: string, cause: number) => void;
  /**
   * What the PEs are: "threads" (default), worker threads of this process; "processes", PE
   * processes on this host, connected over ZeroMQ TCP; "mixed", the first `localPes` PEs threads
   * of this process and the others PE processes. Also `+processes` or `+mixed` on the command
   * line, or CHARM4TS_TRANSPORT. User code can't tell them apart.
   */
  transport?: "threads" | "processes" | "mixed";
  /**
   * PE processes ("processes", "mixed"): how many PEs each process hosts, one worker thread each
   * (default 1). PEs of one process talk over MessagePorts, others over ZeroMQ; a process that
   * dies takes all of its PEs with it. Also `+ppn N` on the command line, or CHARM4TS_PPN.
   */
  pesPerProcess?: number;
  /** "mixed" only: how many PEs (0 … localPes-1) are threads of this process (default half, rounded down; or CHARM4TS_LOCAL_PES). */
  localPes?: number;
  /**
   * PE processes only: seconds a PE may go without answering the driver's heartbeat (its event
   * loop stuck, e.g. an endless loop or one entry method running that long) before it is
   * declared dead and killed. Default 2 (or CHARM4TS_PE_TIMEOUT); 0 turns the check off.
   */
  peTimeout?: number;
  /**
   * Each PE's JavaScript heap limit in MB (default: CHARM4TS_PE_MAX_HEAP_MB, else Node's). A PE
   * that exhausts it dies alone, like any dead PE: calls waiting on it reject with PeLostError
   * ("ran out of memory"). Threads: the Worker's resourceLimits; PE processes this driver
   * spawns: --max-old-space-size (ranks a launcher starts: NODE_OPTIONS=--max-old-space-size=N).
   */
  peMaxHeapMb?: number;
  /**
   * "by-hand": the PE processes ("processes", "mixed") are started by the user — on a cluster's
   * nodes, say, from a notebook — not by this driver. It prints one command per PE process (the
   * secret stays in a file only this user can read) and waits up to 10 minutes for them to join.
   * A function instead gets those shell command lines to run them itself (its own ssh, a batch
   * system's submit command, or here, as the remote-pes notebook does).
   */
  attach?: "by-hand" | ((commands: string[]) => void);
  /**
   * Start the PE processes over ssh on these hosts, PE process i on host i mod their number (as
   * `charmrun ++hosts a,b` or CHARM4TS_HOSTS; CHARM4TS_REMOTE_SHELL, _COMMAND and _CWD apply).
   * From a notebook: `await charm.restart({ hosts: ["node1", "node2"], numPes: 4 })`.
   */
  hosts?: string[];
  /**
   * PE processes: the interface the driver (and a mixed runtime's threads) listen on, e.g. this
   * host's address on the cluster's network (default CHARM4TS_BIND, else 127.0.0.1: loopback only).
   * Off loopback, CURVE encrypts and authenticates every connection.
   */
  bind?: string;
}

/** The program's main function: runs on the driver once every PE is ready. */
export type MainFunction = (args: string[]) => unknown;

// Where charmrun leaves the compiled program's URL (a global: charmrun and the program may load
// different copies of this module's chunk graph in principle; Symbol.for is shared by all).
const ENTRY = Symbol.for("charm4ts.entryModule");
let pes: LocalPes | ProcessPes | undefined;
let lastOptions: StartOptions = {};
let scriptMode = false;
let errorHandler: ((error: RemoteError) => void) | undefined;
const safeSetTimeout = setTimeout;

function numPesFrom(options: StartOptions): number {
  const fromArgv = process.argv.find((a) => /^\+p\d+$/.test(a));
  const n = options.numPes ?? (fromArgv ? Number(fromArgv.slice(2)) : undefined) ?? (process.env.CHARM4TS_PES ? Number(process.env.CHARM4TS_PES) : availableParallelism());
  if (!Number.isInteger(n) || n < 1 || n > 8000) throw new CharmError(`number of PEs must be an integer from 1 to 8000, got ${n} (set it with +pN, CHARM4TS_PES or { numPes })`);
  return n;
}

function balancerFrom(options: StartOptions): string {
  const flag = process.argv.indexOf("+balancer");
  const name = options.balancer ?? (flag >= 0 ? process.argv[flag + 1] : undefined) ?? process.env.CHARM4TS_BALANCER ?? "greedy";
  return checkBalancerName(name);
}

type TransportKind = NonNullable<StartOptions["transport"]>;

function transportFrom(options: StartOptions): TransportKind {
  const flag = process.argv.includes("+processes") ? "processes" : process.argv.includes("+mixed") ? "mixed" : undefined;
  const name = options.transport ?? flag ?? process.env.CHARM4TS_TRANSPORT ?? "threads";
  if (name !== "threads" && name !== "processes" && name !== "mixed") throw new CharmError(`transport must be "threads", "processes" or "mixed", got ${JSON.stringify(name)} (set it with { transport }, +processes, +mixed or CHARM4TS_TRANSPORT)`);
  return name;
}

/** Where PEs live besides the transport: PEs per process, and a mixed runtime's threads here. */
function layoutFrom(options: StartOptions, transport: TransportKind, numPes: number): { pesPerProcess: number; localPes: number } {
  const flag = process.argv.indexOf("+ppn");
  const ppn = Number(options.pesPerProcess ?? (flag >= 0 ? process.argv[flag + 1] : undefined) ?? process.env.CHARM4TS_PPN ?? 1);
  if (!Number.isInteger(ppn) || ppn < 1) throw new CharmError(`pesPerProcess must be a whole number from 1, got ${String(options.pesPerProcess ?? ppn)} (set it with { pesPerProcess }, +ppn N or CHARM4TS_PPN)`);
  if (ppn > 1 && transport === "threads") throw new CharmError(`pesPerProcess (+ppn) groups PE processes' PEs: use it with transport "processes" or "mixed" (+processes, +mixed)`);
  if (options.localPes !== undefined && transport !== "mixed") throw new CharmError(`localPes is for transport "mixed" (some PEs threads here, the others processes), not "${transport}"`);
  const local = Number(options.localPes ?? process.env.CHARM4TS_LOCAL_PES ?? Math.floor(numPes / 2));
  if (!Number.isInteger(local) || local < 0 || local > numPes) throw new CharmError(`localPes must be a whole number from 0 to the number of PEs (${numPes}), got ${String(options.localPes ?? local)}`);
  return { pesPerProcess: ppn, localPes: transport === "mixed" ? local : 0 };
}

/** The PE processes' heartbeat from `peTimeout` (undefined: their default, or CHARM4TS_PE_TIMEOUT). */
function heartbeatFrom(options: StartOptions): HeartbeatTiming | false | undefined {
  const seconds = options.peTimeout;
  if (seconds === undefined) return undefined;
  if (typeof seconds !== "number" || !(seconds >= 0) || seconds === Infinity) throw new CharmError(`peTimeout must be a number of seconds (0 turns the PE heartbeat off), got ${String(seconds)}`);
  return seconds === 0 ? false : heartbeatFor(seconds);
}

/** The program's arguments without the runtime's own (+pN, +balancer NAME, +processes, +mixed, +ppn N). */
function withoutRuntimeFlags(argv: string[]): string[] {
  const valued = ["+balancer", "+ppn"];
  return argv.filter((a, i) => !/^\+p\d+$/.test(a) && a !== "+processes" && a !== "+mixed" && !valued.includes(a) && !valued.includes(argv[i - 1]!));
}

function onUnhandled(error: ErrorData): void {
  const err = new RemoteError(error);
  if (errorHandler) { errorHandler(err); return; }
  process.stderr.write(`charm4ts: unhandled error (nobody awaited it):\n${formatErrorData(error)}\n`);
  if (scriptMode) void exitProgram(1);
}

async function start(mainOrOptions?: MainFunction | StartOptions, maybeOptions?: StartOptions): Promise<void> {
  if (isPe()) return; // PEs load the program only for its classes
  const main = typeof mainOrOptions === "function" ? mainOrOptions : undefined;
  const options = (typeof mainOrOptions === "object" ? mainOrOptions : maybeOptions) ?? {};
  if (maybeRt()) throw new CharmError("the runtime is already running; call charm.shutdown() before starting it again");
  scriptMode = main !== undefined;
  const entry = (globalThis as any)[ENTRY] as string | undefined ?? (process.argv[1] ? pathToFileURL(process.argv[1]).href : undefined);
  const wanted = options.modules?.map(String) ?? (entry ? [entry] : []);
  const modules = await Promise.all(wanted.map((m) => compileProgram(m)));
  lastOptions = { ...options, modules: wanted };
  // Under mpirun/srun (charmrun on rank 0), the launcher's ranks are the PEs.
  const launched = launchedStart(options.numPes);
  // charmrun ++nodelist/++hosts (CHARM4TS_HOSTS): every PE is a process started over ssh.
  const ssh = launched ? undefined : await sshStart(hostsFrom(options));
  // Over ssh and under a launcher every PE is in a process (several with +ppn): "threads" can't mean threads there.
  const asked = transportFrom(options);
  const transport = (ssh || launched) && asked === "threads" ? "processes" : asked;
  const counted = launched?.numPes ?? numPesFrom(options);
  const layout = layoutFrom(options, transport, counted);
  // A launcher's ranks are PE processes: with +ppn N each hosts N PEs.
  const numPes = launched ? counted * layout.pesPerProcess : counted;
  if (launched && layout.localPes > 0) throw new CharmError("+mixed (localPes) isn't supported with a launcher (mpirun, srun) yet: there every PE is in a rank's process");
  if (ssh && layout.localPes > 0) throw new CharmError("+mixed (localPes) isn't supported with ++nodelist/++hosts (ssh) yet: there every PE is in a process on a host");
  const byHand = options.attach === undefined ? undefined : byHandFrom(options, { launched: !!launched, ssh: !!ssh, transport, numPes, layout });
  const bind = options.bind === undefined ? {} : { host: options.bind };
  const processOptions = { ...launched?.options, ...ssh, ...byHand, ...bind, heartbeat: heartbeatFrom(options), maxHeapMb: maxHeapFrom(options.peMaxHeapMb), ...layout };
  // ZeroMQ (a native addon) is loaded only when PEs are processes: thread PEs start without it.
  const startPes = launched || ssh || transport !== "threads" ? (await import("./pe/process-driver.ts")).startProcessPes : startLocalPes;
  pes = await startPes(numPes, modules, {
    onUnhandled,
    onOutput: options.onOutput,
    onExit: (code, reason) => { if (reason) process.stderr.write(`${reason}\n`); void exitProgram(code); },
  }, { definitions: definitionLog(), interactive: options.interactive ?? false, balancer: balancerFrom(options) }, processOptions);
  setRuntime(pes.runtime);
  if (!main) return;
  const args = options.args ?? withoutRuntimeFlags(process.argv.slice(1));
  try {
    await main(args);
    const runtime = maybeRt();
    if (!runtime) return; // main called charm.exit()
    await runtime.quiescence.whenQuiet(); // a program ends by itself once main returned and all is quiet
    if (maybeRt() === runtime) await exitProgram(0);
  } catch (err) {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    await exitProgram(1);
  }
}

/** The environment the ssh launch reads, with `options.hosts` in it when given. */
function hostsFrom(options: StartOptions): NodeJS.ProcessEnv {
  if (options.hosts === undefined) return process.env;
  if (!Array.isArray(options.hosts) || options.hosts.length === 0 || options.hosts.some((h) => typeof h !== "string" || h.trim() === "" || h.includes(","))) {
    throw new CharmError(`hosts must be a non-empty list of host names (as ssh takes them), got ${JSON.stringify(options.hosts)}`);
  }
  return { ...process.env, CHARM4TS_HOSTS: options.hosts.join(",") };
}

/** Options for PE processes the user starts (attach: "by-hand"), after checking they can be. */
function byHandFrom(options: StartOptions, how: { launched: boolean; ssh: boolean; transport: TransportKind; numPes: number; layout: { pesPerProcess: number; localPes: number } }): ProcessOptions {
  const attach = options.attach;
  if (attach !== "by-hand" && typeof attach !== "function") throw new CharmError(`attach: "${String(attach)}" isn't known; "by-hand" waits for PE processes you start, a function gets their commands`);
  if (how.launched || how.ssh) throw new CharmError('attach: "by-hand" is for PE processes you start yourself; under mpirun/srun or ++hosts the launcher starts them');
  if (how.transport === "threads") throw new CharmError('attach: "by-hand" attaches PE processes: use it with transport "processes" or "mixed" (threads of this process need no attaching)');
  const layout = peLayout(how.numPes, how.layout.localPes, how.layout.pesPerProcess);
  if (layout.processes.length === 0) throw new CharmError('attach: "by-hand" with no PE processes to wait for: every PE is a thread here (localPes = numPes)');
  return byHandStart(layout, (text, commands) => {
    if (typeof attach !== "function") return console.log(text);
    try {
      attach(commands);
    } catch (err) {
      // The runtime still waits for them: the user can start them by hand instead.
      console.error(`charm4ts: attach(commands) threw ${(err as Error)?.stack ?? String(err)}\n${text}`);
    }
  });
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
  await pes.restartPe(pe, why);
}

async function shutdown(): Promise<void> {
  const running = pes;
  pes = undefined;
  resetPool();
  if (running) running.runtime.closed = true;
  setRuntime(undefined);
  await running?.stop();
  // Nothing can answer the driver's pending futures any more: reject them rather than hang their awaiters.
  const pending = running ? [...running.runtime.futures.values()] : [];
  running?.runtime.futures.clear();
  for (const state of pending) state.reject(new CharmError("the runtime was shut down before this future completed"));
}

async function exitProgram(code: number): Promise<void> {
  const runtime = maybeRt();
  if (runtime && !runtime.isDriver) {
    runtime.send(-1, { t: "exit", code });
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
  shutdown,
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
  /** The load-balancing rounds of an array so far: per-PE load before and after each, and what moved. */
  lbHistory(proxy: unknown): Future<BalancingRound[]> {
    const ref = proxyRef(proxy);
    if (!ref || ref.idx || ref.kind !== "array") throw new CharmError("charm.lbHistory(proxy): proxy must be an array's proxy (from charm.array)");
    const runtime = rt();
    const f = new Future<BalancingRound[]>();
    runtime.send(runtime.rootPe(ref), { t: "lbHistory", cid: ref.cid, fid: f.id });
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
    const runtime = maybeRt();
    if (runtime) runtime.sent++;
    return new Promise((resolve) => safeSetTimeout(() => { if (runtime) runtime.handled++; resolve(); }, seconds * 1000));
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
    if (runtime && !runtime.isDriver) { runtime.send(-1, { t: "exit", code: 1, reason: `charm.abort on PE ${runtime.self}: ${message}` }); return Promise.resolve(); }
    process.stderr.write(`charm.abort: ${message}\n`);
    return exitProgram(1);
  },
  /** Lets instances of a class cross PEs (own fields copied, prototype restored); call on every PE. */
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
  /** Every PE's chares, classes and message counts (a table in a notebook). */
  status: runtimeStatus,
  /** Where errors nobody awaited go (default: printed; a script then ends with code 1). */
  onError(handler: ((error: RemoteError) => void) | undefined): void {
    errorHandler = handler;
  },
};

