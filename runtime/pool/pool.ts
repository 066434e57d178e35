/**
 * The task pool (Charm4Py's charm.pool): `await charm.pool.map(fn, items)` runs a named function
 * over the items on every PE, in chunks, and gives the results in input order; an exception in a
 * task rejects the call with a RemoteError. Tasks may be `async` and may use the pool themselves
 * (nested, e.g. a recursive Fib). Unlike Charm4Py, no PE is reserved: it works with one PE too.
 */
import { Chare } from "../core/chare.ts";
import { registerChareClass } from "../core/registry.ts";
import { createGroup } from "../core/create.ts";
import { rt } from "../core/current.ts";
import { proxyRef } from "../core/proxy.ts";
import type { Runtime } from "../core/runtime.ts";
import { CharmError } from "../protocol/errors.ts";
import type { CollectionId } from "../protocol/ids.ts";
import { registerTask, taskFn, taskFnSoon, type TaskFn } from "./tasks.ts";
import { DEFINITION_WAIT_MS } from "../core/entry-runner.ts";
import { Future } from "../core/future.ts";
import { causeInterrupted } from "../core/cell-context.ts";

/** Options for `charm.pool.map`. */
export interface MapOptions {
  /** Items per message (default: enough for about four chunks per PE). */
  chunkSize?: number;
}

// A chunk of long tasks held its PE for its whole length (fifty 50 ms tasks: 2.5 s), so the PE
// answered nothing meanwhile: an interrupt in a notebook found it unresponsive and restarted it,
// losing every other chare there. A chunk now lets its PE handle other messages this often.
const SLICE_MS = 20;
// Captured before user code runs: a program that mocks the clock can't stall the pool.
const now = performance.now.bind(performance);

/** One per PE: runs chunks of tasks. */
export class PoolWorker extends Chare {
  async run(name: string, chunk: unknown[], pool: unknown): Promise<unknown[]> {
    // A PE learns the pool's proxy from the chunks it runs, for nested maps: the newest, since the
    // driver makes a new group when a PE restart took a member of the old one.
    if (!poolProxy || cidOf(pool) > cidOf(poolProxy)) poolProxy = pool;
    const runtime = rt();
    // Notebook mode: a cell's function may still be on its way here from the driver.
    const fn = runtime.runner.interactive ? await taskFnSoon(name, runtime.self, DEFINITION_WAIT_MS) : taskFn(name, runtime.self);
    // A notebook cell interrupted while its map runs: the chunks not done yet stop (at a pause).
    const cause = runtime.scheduler.currentCause();
    stopIfInterrupted(cause);
    const results: unknown[] = new Array(chunk.length);
    // The clock is read after every task while tasks are long, every 64th while they are tiny
    // (the stride doubles while a stretch took under a millisecond).
    let sliceEnd = now() + SLICE_MS, stride = 1, checkAt = 1, stretchFrom = now();
    for (let i = 0; i < chunk.length; i++) {
      results[i] = fn(chunk[i]);
      if (i + 1 < checkAt || i + 1 === chunk.length) continue;
      const t = now();
      stride = t - stretchFrom < 1 ? Math.min(64, stride * 2) : 1;
      checkAt = i + 1 + stride;
      if (t >= sliceEnd) {
        // Counted as a message to self meanwhile: quiescence isn't declared in the middle of a chunk.
        await new Promise<void>((resume) => runtime.scheduler.laterCounted(resume));
        stopIfInterrupted(cause);
        sliceEnd = now() + SLICE_MS;
      }
      stretchFrom = now();
    }
    return results.some(isThenable) ? Promise.all(results) : results;
  }
}
registerChareClass(PoolWorker);

/** Ends a chunk whose notebook cell was interrupted (its map's caller was abandoned: nobody reads the results). */
function stopIfInterrupted(cause: number): void {
  if (causeInterrupted(cause)) throw new CharmError("charm.pool: the cell that started this map was interrupted; its remaining tasks were dropped");
}

function isThenable(v: unknown): boolean {
  return v !== null && typeof v === "object" && typeof (v as { then?: unknown }).then === "function";
}

// The pool's group, made by the driver on first use; PEs learn it from the chunks they run.
let poolProxy: any;
// Every pool group the driver made in this run: charm.pool's own, not the program's.
const poolGroups = new Set<CollectionId>();

function cidOf(proxy: unknown): CollectionId {
  return proxyRef(proxy)!.cid;
}

function pool(): any {
  const runtime = rt();
  // A PE restarted in place (charm.restartPe) lost its member of the group: the driver makes a
  // new group rather than failing every later call. A PE can't, and waits for the new one's chunks.
  if (poolProxy && (!runtime.isDriver || !lostAnywhere(runtime, cidOf(poolProxy)))) return poolProxy;
  if (!runtime.isDriver) throw new CharmError("charm.pool is first used from the driver (main or a notebook cell); a PE learns it from the tasks it runs");
  poolProxy = createGroup(PoolWorker);
  poolGroups.add(cidOf(poolProxy));
  return poolProxy;
}

/** Whether a PE restarted in place took collection `cid`'s chares there. */
function lostAnywhere(runtime: Runtime, cid: CollectionId): boolean {
  return runtime.failures.replacements.some((r) => runtime.failures.lostOn(r.pe, cid));
}

/** Whether collection `cid` is one of charm.pool's own worker groups (not one the program made). */
export function isPoolGroup(cid: CollectionId): boolean {
  return poolGroups.has(cid);
}

/** Forgets the pool (the runtime was restarted). */
export function resetPool(): void {
  poolProxy = undefined;
  poolGroups.clear();
}

/** Runs `fn` over `items` on the PEs; results in input order. */
export async function poolMap<T, R>(fn: (item: T) => R | Promise<R>, items: Iterable<T>, options: MapOptions = {}): Promise<R[]> {
  const name = registerTask(fn as TaskFn);
  const list = [...items];
  if (list.length === 0) return [];
  const runtime = rt();
  const proxy = pool();
  const chunkSize = options.chunkSize ?? Math.max(1, Math.ceil(list.length / (runtime.numPes * 4)));
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new CharmError(`charm.pool.map: chunkSize must be a positive integer, got ${options.chunkSize}`);
  const calls: Array<PromiseLike<unknown[]>> = [];
  // Start with the PE after this one, so a nested map spreads its work instead of queuing it here.
  const first = runtime.self + 1;
  for (let i = 0, c = 0; i < list.length; i += chunkSize, c++) {
    calls.push(proxy.at((first + c) % runtime.numPes).run.ret(name, list.slice(i, i + chunkSize), proxy));
  }
  return (await Promise.all(calls)).flat() as R[];
}

/** Like `map`, but returns a Future of the results at once (Charm4Py's map_async). */
export function poolMapAsync<T, R>(fn: (item: T) => R | Promise<R>, items: Iterable<T>, options: MapOptions = {}): Future<R[]> {
  const results = new Future<R[]>();
  poolMap(fn, items, options).then((values) => results.send(values), (error) => results.fail(error));
  return results;
}

/** Runs one task on some PE; resolves with its result. */
export async function poolTask<T, R>(fn: (arg: T) => R | Promise<R>, arg: T): Promise<R> {
  return (await poolMap(fn, [arg], { chunkSize: 1 }))[0]!;
}
