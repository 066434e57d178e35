/**
 * What a host of the runtime needs beyond a program's API (runtime/index.ts): the Jupyter
 * kernel imports only these two modules. Starting PE threads ahead of the runtime, marking
 * where a cell begins, the calls still pending, flushing PE output, finding PEs that don't
 * answer, what a restarted PE took with it, how errors are printed, and sending something
 * ahead of the next message.
 */
import type { CollectionId, Index } from "./protocol/ids.ts";
import type { CollectionRef, DroppedOutput } from "./protocol/messages.ts";
import { maybeRt } from "./core/current.ts";
import { ANY_PE } from "./core/failure.ts";
import { forEachIndex } from "./core/placement.ts";
import { Future } from "./core/future.ts";

export { MOST_PES_STARTED_AHEAD, prestartPeThreads, offerPrestarted, discardPrestarted, type Prestart, type PrestartedPes } from "./driver/prestart.ts";
export { defaultPeCount } from "./pe-count.ts";
export { interruptCell, cellInterrupted } from "./core/cell-context.ts";
export { isPoolGroup } from "./pool/pool.ts";
export { LINES_KEPT, OutputRing } from "./pe/output-ring.ts";
export { DEFAULT_BURST_KB, DEFAULT_RATE_KB, TokenBucket, countLines, outputRatesFromEnv } from "./pe/output-budget.ts";
export { packageRoot } from "./startup/package-root.ts";
export { beforeNextSend } from "./core/send-hook.ts";
export { ANSI, PLAIN, errorReport, fullStacks, reportLines, type Palette } from "./protocol/error-report.ts";
export type { CollectionId, CollectionRef, DroppedOutput, Index };

// Captured before any cell runs: a cell that replaces setTimeout can't break these waits.
const safeSetTimeout = setTimeout;
const safeClearTimeout = clearTimeout;

/** Where a cell began: what it sent and the futures it made are counted from here. */
export interface CellMark {
  /** Futures with a larger id were made by the cell. */
  readonly firstFuture: number;
  /** Messages the driver had sent before the cell. */
  readonly sentBefore: number;
}

/** Whether the runtime is running on this thread. */
export function isRunning(): boolean {
  return maybeRt() !== undefined;
}

/**
 * A cell begins: every message sent from now on carries `cause` (the cell's number), so the
 * PEs' output can be traced to it. Returns the mark its later questions are asked against.
 */
export function beginCell(cause: number): CellMark {
  const runtime = maybeRt();
  if (!runtime) return { firstFuture: 0, sentBefore: 0 };
  runtime.scheduler.cause = cause;
  return { firstFuture: runtime.newFutureId(), sentBefore: runtime.scheduler.traffic.sent };
}

/** Whether the driver sent anything since `mark`. */
export function sentSince(mark: CellMark): boolean {
  const runtime = maybeRt();
  return runtime !== undefined && runtime.scheduler.traffic.sent !== mark.sentBefore;
}

export { suspendedNotice } from "./driver/hang-watch.ts";

/** Entry methods (on all PEs) that were suspended at an `await` at the last quiescent moment the driver saw. */
export function suspendedAtQuiet(): number {
  return maybeRt()?.quiescence.suspendedAtQuiet ?? 0;
}

/** How many futures homed on the driver are still pending. */
export function pendingCount(): number {
  return maybeRt()?.futures.size ?? 0;
}

/** The labels of pending calls: those made since `mark`, and those earlier ones that have a label. */
export function pendingCalls(mark: CellMark, ignore: string): { mine: string[]; earlier: string[] } {
  const mine: string[] = [];
  const earlier: string[] = [];
  for (const [fid, s] of maybeRt()?.futures ?? []) {
    if (s.status !== "pending" || s.label === ignore || s.internal) continue;
    if (fid > mark.firstFuture) mine.push(s.label ?? "a Future the cell made");
    else if (s.label) earlier.push(s.label);
  }
  return { mine, earlier };
}

/** A future answered by `pe`'s (or every PE's) echo; a PE's death rejects it instead of leaving it pending. */
function echo(pes: number[], label?: string): Future<unknown> {
  const runtime = maybeRt()!;
  const reply = new Future<unknown>(pes.length);
  const state = runtime.futures.get(reply.id)!;
  if (label) state.label = label;
  state.on = pes.length === 1 ? pes[0]! : ANY_PE;
  for (const pe of pes) runtime.send(pe, { t: "echo", fid: reply.id });
  return reply;
}

/** True once `work` resolves, false after `ms` if it hasn't (its rejection rejects). */
async function within(work: PromiseLike<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => (timer = safeSetTimeout(() => resolve(false), ms)));
  return Promise.race([Promise.resolve(work).then(() => true), late]).finally(() => safeClearTimeout(timer));
}

/**
 * One round trip to every PE, waited for at most `ms`: a PE answers after everything it sent
 * earlier on the same ordered channel, so output it printed before is in when this resolves.
 * Best effort: a lost PE or one busy for longer doesn't hold it up. `label` names the future.
 */
export async function flushPeOutput(ms: number, label: string): Promise<void> {
  const runtime = maybeRt();
  if (!runtime) return;
  let answers: Future<unknown>;
  try {
    answers = echo(Array.from({ length: runtime.numPes }, (_, pe) => pe), label);
  } catch {
    return; // a transport gone with its PE: nothing more will come from it
  }
  await within(Promise.resolve(answers).catch(() => undefined), ms);
}

/**
 * The PEs that don't answer an echo within `ms` (a PE restarted meanwhile rejects its own). A PE
 * running one of the runtime's own steps (a checkpoint's save, a restore's load: seconds for a
 * large state) isn't asked: it is busy, and that step's future rejects if it dies.
 */
export async function unresponsivePes(ms: number): Promise<number[]> {
  const runtime = maybeRt();
  if (!runtime) return [];
  const ok = await Promise.all(Array.from({ length: runtime.numPes }, (_, pe) => runtime.stepsOn.has(pe) || within(echo([pe]), ms)));
  return ok.flatMap((answered, pe) => (answered ? [] : [pe]));
}

/** Whether PEs are threads, restartable one at a time (charm.restartPe), rather than processes. */
export function canRestartOnePe(): boolean {
  return maybeRt()?.transport.replacePeer !== undefined;
}

/** The collections the driver created, in order. */
export function collectionsMade(): CollectionRef[] {
  return [...(maybeRt()?.creations.collections() ?? [])];
}

/** Whether a restart of `pe` already took the chares collection `cid` had there. */
export function lostBefore(pe: number, cid: CollectionId): boolean {
  return maybeRt()?.failures.lostOn(pe, cid) ?? false;
}

/** The indices of a dense array's elements that are on `pe` now. */
export function elementsOn(ref: CollectionRef, pe: number): Index[] {
  const runtime = maybeRt();
  const here: Index[] = [];
  if (!runtime || ref.kind !== "array") return here;
  forEachIndex(ref.dims!, (idx) => { if (runtime.locate(ref, idx) === pe) here.push(idx.slice() as Index); });
  return here;
}
