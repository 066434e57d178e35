/**
 * `charm`: the one object programs, chares and cells use — start, create, query, wait, end.
 * In a program run by charmrun, `charm.start(main)` starts the PEs and runs `main` on the
 * driver; on PE threads (which load the same program to find its chare classes) it does nothing.
 * Starting and stopping the runtime is lifecycle.ts; this file is the API's surface.
 */
import { CharmError, type RemoteError } from "./protocol/errors.ts";
import { DRIVER } from "./protocol/ids.ts";
import { maybeRt, rt } from "./core/current.ts";
import {
  checkpoint, exitProgram, pesCountedFrom, restart, restartPe, restore, restoredAtStart, setErrorHandler, shutdown, start,
  type MainFunction,
} from "./lifecycle.ts";
import type { StartOptions } from "./start-options.ts";
import { registerSerializable } from "./protocol/codec.ts";
import { move } from "./protocol/moved.ts";
import { Future } from "./core/future.ts";
import { boundTarget, proxyRef } from "./core/proxy.ts";
import { iwait, waitAll, type Waitable } from "./channels/wait.ts";
import { define } from "./definitions/ship.ts";
import { runtimeStatus, type RuntimeStatus } from "./presentation/status.ts";
import { timeline } from "./presentation/trace.ts";
import { profile } from "./presentation/profile.ts";
import { poolMap, poolMapAsync, poolTask } from "./pool/pool.ts";
import { scheduleCallableAfter } from "./core/timers.ts";
import { topology } from "./core/topology.ts";
import { sectionApi } from "./sections/api.ts";
import { registerBalancer } from "./lb/strategies.ts";
import { destroyCollection } from "./core/destroy.ts";
import { checkpointDriver } from "./checkpoint/on-demand.ts";
import type { BalancingRound } from "./lb/balancer.ts";
import type { CollectionProxy, ElementProxy } from "./core/proxy-types.ts";
import {
  awaitCreation, createArray, createGroup, createSingleton, createSparseArray, insertElement,
  type ArrayOptions, type ChareCtor, type ChareOptions, type CtorArgs,
} from "./core/create.ts";

export type { StartOptions, MainFunction };

const safeSetTimeout = setTimeout;

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
  restored: <T extends Record<string, any> = Record<string, any>>(): T | undefined => restoredAtStart() as T | undefined,
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
   * `{ replaces: key }`: the script takes the place of the log's last one if that has the same key.
   */
  define,
  /** The task pool: `await charm.pool.map(fn, items)`, `await charm.pool.task(fn, arg)`; `fn` is a named function every PE knows. */
  pool: { map: poolMap, mapAsync: poolMapAsync, task: poolTask },
  /** Runs `work` with every PE recording its entry methods; a timeline per PE (an SVG in a notebook). */
  timeline,
  /** Runs `work` and returns calls and time per entry method (a table; `.print()` in scripts). */
  profile,
  /** Every PE's chares, classes and message counts, and where the number of PEs came from (a table in a notebook). */
  status: (): Promise<RuntimeStatus> => runtimeStatus(pesCountedFrom()),
  /** Where errors nobody awaited go (default: printed; a script then ends with code 1). */
  onError(handler: ((error: RemoteError) => void) | undefined): void {
    setErrorHandler(handler);
  },
};

