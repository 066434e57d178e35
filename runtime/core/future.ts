/**
 * Futures: created anywhere, sent anywhere (inside messages too), resolved once — or after
 * `numVals` values — and awaited on the endpoint that created them (their home, encoded in
 * the id). A remote exception rejects the future with a RemoteError naming its origin.
 */
import { homeOf, type FutureId } from "../protocol/ids.ts";
import { CharmError, PeLostError, RemoteError, errorToData, noteAwaitSite } from "../protocol/errors.ts";
import type { ErrorData } from "../protocol/messages.ts";
import { registerReviver, toWire, encodeValue, decode } from "../protocol/codec.ts";
import { rt } from "./current.ts";
import { MIME_BUNDLE, futureBundle } from "./bundles.ts";
import { ANY_PE, type WaitsOn } from "./failure.ts";

/** The home-side state of a pending future. */
export interface FutureState {
  readonly numVals: number;
  readonly values: unknown[];
  readonly promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: Error): void;
  status: "pending" | "resolved" | "rejected";
  value?: unknown;
  error?: Error;
  /** What the future waits for, when a proxy call made it ("Worker[3].step"): for "still running" reports. */
  label?: string;
  /** The PE whose death dooms it (ANY_PE: a broadcast, or handed to chares); undefined: none yet. */
  on?: WaitsOn;
  /** A runtime query's own reply (charm.status…), whose PeLostError the query takes in: the program doesn't hear of a loss through it. */
  internal?: boolean;
}

/** Makes the state for a future homed here. */
export function newFutureState(numVals: number): FutureState {
  let resolve!: (v: unknown) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<unknown>((res, rej) => { resolve = res; reject = rej; });
  const state = { numVals, values: [], promise, status: "pending", label: undefined, on: undefined } as unknown as FutureState;
  // Assigned, not written as object-literal methods: the build's keepNames would wrap each in a
  // defineProperty that makes it a dictionary-mode function, ~3× slower to create (per call!).
  state.resolve = (v) => { state.status = "resolved"; state.value = v; resolve(v); };
  state.reject = (e) => {
    if (state.status !== "pending") return; // settled already: `later` below would be nobody's
    state.status = "rejected"; state.error = e;
    // The promise follows `later`, which throws `e` from a continuation that V8 links to whoever
    // awaits the future: there the error notes the awaiting code's frames (a cell's line) — its
    // own stack is a message handler's. Two microtask turns later than rejecting outright.
    let go!: () => void;
    const later = new Promise<void>((r) => (go = r)).then(() => {
      noteAwaitSite(e);
      // The runtime rejects futures nobody may ever await (a failed call whose caller forgot
      // it); the rejection still reaches whoever awaits later, so don't let Node abort. Marked
      // here, not at creation (a catch() per future cost a promise on every call), and not
      // before the site is noted (a second reaction hides the awaiting code from V8).
      promise.catch(ignore);
      throw e;
    });
    resolve(later);
    go();
  };
  return state;
}

const ignore = (): void => undefined;
const noteAgain = (e: Error): never => {
  noteAwaitSite(e, true);
  throw e;
};

// What fromId hands the constructor (private fields can only be set there).
let wrapping: { id: FutureId; numVals: number; state: FutureState | undefined } | undefined;

/** A value that will arrive later, possibly from another PE. `await` it on the PE that made it. */
export class Future<T = unknown> implements PromiseLike<T> {
  // Private fields: read-only and invisible from outside like the defineProperty calls they
  // replace, which cost ~0.4 µs per future (one per ret call).
  readonly #id: FutureId;
  readonly #numVals: number;
  readonly #state: FutureState | undefined;

  constructor(numVals = 1) {
    const w = wrapping;
    if (w) {
      wrapping = undefined;
      this.#id = w.id;
      this.#numVals = w.numVals;
      this.#state = w.state;
      return;
    }
    if (!Number.isInteger(numVals) || numVals < 1) throw new CharmError(`new Future(numVals): numVals must be a positive integer, got ${numVals}`);
    const runtime = rt();
    const id = runtime.newFutureId();
    const state = newFutureState(numVals);
    runtime.futures.set(id, state);
    this.#id = id;
    this.#numVals = numVals;
    this.#state = state;
  }

  /** The id; its home endpoint is encoded in it. */
  get id(): FutureId {
    return this.#id;
  }

  /** How many `send`s complete it (values then arrive as an array). */
  get numVals(): number {
    return this.#numVals;
  }

  /** A handle for a future that lives elsewhere (or here, when it came home in a message). */
  static fromId<T>(id: FutureId): Future<T> {
    const state = rt().futures.get(id);
    wrapping = { id, numVals: state?.numVals ?? 1, state };
    return new Future<T>();
  }

  /** The endpoint that owns this future (where it can be awaited). */
  get home(): number {
    return homeOf(this.id);
  }

  /** "pending", "resolved" or "rejected" (on the home endpoint; "remote" elsewhere). */
  get status(): FutureState["status"] | "remote" {
    return this.#state?.status ?? "remote";
  }

  /** Sends one value to the future, from any PE. */
  send(value?: T extends readonly (infer E)[] ? E | T : T): void {
    sendToFuture(this.id, value);
  }

  /** Rejects the future with an error, from any PE. */
  fail(error: unknown): void {
    rejectFuture(this.id, errorToData(error, rt().self));
  }

  then<A = T, B = never>(onValue?: ((value: T) => A | PromiseLike<A>) | null, onError?: ((reason: any) => B | PromiseLike<B>) | null): Promise<A | B> {
    const state = this.#state;
    if (!state) {
      if (this.home === rt().self) {
        // A copy that came home in a message after the future completed: its value went to the original.
        throw new CharmError(`future ${this.id} has already completed; this copy of it arrived in a message afterwards. Await the Future object you created (its value is kept there).`);
      }
      throw new CharmError(`future ${this.id} belongs to ${endpointName(this.home)}; it can only be awaited there. Send it a value from here instead, or create the future where you await it.`);
    }
    // Awaited after it failed: this awaiter's frames are noted on the way (see newFutureState).
    if (state.status === "rejected") return (state.promise.then(undefined, noteAgain) as Promise<T>).then(onValue, onError);
    return (state.promise as Promise<T>).then(onValue, onError);
  }

  /** How a notebook shows the future: pending, its value, or its error. */
  [MIME_BUNDLE](): Record<string, string> {
    const state = this.#state;
    return futureBundle(this.id, this.status, state?.value, state?.error);
  }

  [toWire](): { $charm: "future"; fid: FutureId } {
    // Handed to chares: any PE might be the one meant to complete it.
    if (this.#state) this.#state.on = ANY_PE;
    return { $charm: "future", fid: this.id };
  }
}

registerReviver("future", (d: { fid: FutureId }) => Future.fromId(d.fid));

/** Names an endpoint for messages: "PE 3" or "the driver". */
export function endpointName(ep: number): string {
  return ep < 0 ? "the driver" : `PE ${ep}`;
}

/** Delivers a value to a future wherever it lives. */
export function sendToFuture(fid: FutureId, value: unknown): void {
  const runtime = rt();
  const home = homeOf(fid);
  // Copied even when the future lives here: the receiver must never alias the sender's data
  // (primitives need no copy: the common same-PE ret stays cheap).
  if (home === runtime.self && (value === null || (typeof value !== "object" && typeof value !== "function" && typeof value !== "symbol"))) {
    settleLocal(fid, value);
    return;
  }
  const enc = encodeValue(value, "the value sent to a future");
  if (home === runtime.self) { settleLocal(fid, enc.r ? decode(enc.v) : enc.v); return; }
  runtime.send(home, { t: "resolve", fid, v: enc.v, r: enc.r }, enc.transfer);
}

/** Rejects a future wherever it lives. */
export function rejectFuture(fid: FutureId, error: ErrorData): void {
  const runtime = rt();
  const home = homeOf(fid);
  if (home === runtime.self) { failLocal(fid, error); return; }
  runtime.send(home, { t: "reject", fid, e: error });
}

/** Adds a value to a future homed here; resolves it once all its values arrived. */
export function settleLocal(fid: FutureId, value: unknown): void {
  const runtime = rt();
  const state = runtime.futures.get(fid);
  if (!state) {
    // Rejected when a PE died while it waited: the live PEs' values still come, as expected.
    if (runtime.failures.rejectedByLoss.has(fid)) return;
    runtime.reportUnhandled({ name: "FutureError", message: `a value arrived for future ${fid}, which has already completed (or never existed on ${endpointName(runtime.self)})`, stack: "", pe: runtime.self });
    return;
  }
  if (state.numVals === 1) {
    runtime.futures.delete(fid);
    state.resolve(value);
    return;
  }
  state.values.push(value);
  if (state.values.length === state.numVals) {
    runtime.futures.delete(fid);
    state.resolve(state.values);
  }
}

/** Rejects a future homed here with the error its data describes: a PE's loss as a PeLostError, else a RemoteError. */
export function failLocal(fid: FutureId, error: ErrorData): void {
  const runtime = rt();
  const state = runtime.futures.get(fid);
  // Already settled: a multi-value future (a broadcast, a definition shipped to every PE)
  // rejects on its first error, and the others add nothing the awaiting code doesn't have.
  if (!state) return;
  runtime.futures.delete(fid);
  state.reject(error.lost ? PeLostError.fromData(error) : new RemoteError(error));
}
