/** Errors as data: what crosses between PEs, and what the user sees when it lands. */
import { inspect } from "node:util";
import type { ErrorData } from "./messages.ts";
import type { Endpoint } from "./ids.ts";

/** A mistake in how the runtime was called; thrown at the call site with what to do about it. */
export class CharmError extends Error {
  override name = "CharmError";
}

/**
 * A PE died (its thread or process ended) while a call or future depended on it. The call may or
 * may not have run; the chares on that PE are lost.
 */
export class PeLostError extends CharmError {
  override name = "PeLostError";
  /** What the user can do about it (an in-memory checkpoint makes charm.recover() possible). */
  static remedy = "charm.restart() starts the runtime again.";
  /** `remedy`: what to do instead of the usual (PeLostError.remedy). */
  constructor(readonly pe: Endpoint, readonly why: string, what: string, remedy = PeLostError.remedy) {
    super(`PE ${pe} ${why}; ${what} The PE's chares are lost: ${remedy}`);
  }

  /** The loss as data, for a future homed on another endpoint: rebuilt there as a PeLostError (fromData). */
  toData(): ErrorData {
    return { name: this.name, message: this.message, stack: `${this.name}: ${this.message}`, pe: this.pe, lost: true };
  }

  /** A PeLostError sent as data (toData), whole again: `instanceof PeLostError` holds where it is awaited. */
  static fromData(data: ErrorData): PeLostError {
    const prefix = `PE ${data.pe} `;
    const why = data.message.startsWith(prefix) ? data.message.slice(prefix.length).split("; ")[0]! : "";
    const err = new PeLostError(data.pe, why, "");
    err.message = data.message;
    err.stack = data.stack; // its own frames would say only "a message arrived"; the await site is added where it is shown
    return err;
  }
}

/** An exception raised by an entry method on another PE, rethrown where its future is awaited. */
export class RemoteError extends Error {
  override name = "RemoteError";
  /** The PE the exception was raised on (-1: the driver). */
  readonly pe: Endpoint;
  /** The chare it was raised in, e.g. "Fib[3]". */
  readonly chare: string | undefined;
  /** The entry method it was raised in. */
  readonly method: string | undefined;
  /** The original error's class name ("TypeError", …). */
  readonly remoteName: string;
  /** The original error's message. */
  readonly remoteMessage: string;
  /** The original error's stack, as the PE that raised it wrote it. */
  readonly remoteStack: string;

  constructor(data: ErrorData) {
    const where = data.chare ? ` in ${data.chare}${data.method ? `.${data.method}` : ""}` : "";
    super(`${data.name}: ${data.message} (raised on PE ${data.pe}${where})`);
    this.pe = data.pe;
    this.chare = data.chare;
    this.method = data.method;
    this.remoteName = data.name;
    this.remoteMessage = data.message;
    this.remoteStack = data.stack;
    // The remote stack is what the user needs; the local one only says "a message arrived".
    this.stack = `${this.name}: ${this.message}\n--- remote stack (PE ${data.pe}) ---\n${data.stack}`;
  }
}

const AWAITED_AT = Symbol.for("charm4ts.awaitedAt");

/**
 * Notes where `err` is awaited: called from a continuation of the promise the awaiting code
 * waits on, where V8's async stack trace runs through the awaiting async functions (a cell's
 * line). Rejections come from message handlers, whose own stack says only "a message arrived".
 * An awaiter at the rejection keeps its site; one that comes later (`replace`) takes it over, as
 * the error is then shown to it. The frames are formatted only if someone looks.
 */
export function noteAwaitSite(err: Error, replace = false): void {
  if ((!replace && Object.hasOwn(err, AWAITED_AT)) || !Object.isExtensible(err)) return;
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, noteAwaitSite);
  Object.defineProperty(err, AWAITED_AT, { value: site, configurable: true });
}

/** The stack noted by noteAwaitSite (frames only, the awaiting code's among them), if any. */
export function awaitSite(err: unknown): string | undefined {
  const site = (err as { [AWAITED_AT]?: { stack?: string } } | null)?.[AWAITED_AT];
  return site?.stack;
}

/** Turns anything thrown into ErrorData, keeping the innermost origin of an already-remote error. */
export function errorToData(err: unknown, pe: Endpoint, chare?: string, method?: string): ErrorData {
  if (err instanceof RemoteError) {
    return { name: err.remoteName, message: err.remoteMessage, stack: err.stack ?? "", pe: err.pe, chare: err.chare, method: err.method };
  }
  if (err instanceof Error) {
    return { name: err.name, message: err.message, stack: err.stack ?? `${err.name}: ${err.message}`, pe, chare, method };
  }
  return errorToData(asError(err), pe, chare, method);
}

/**
 * Anything thrown, as an Error: `throw null`, `throw 42` or `throw "text"` become an Error that
 * says what was thrown, so a falsy thrown value can't pass for "no error".
 */
export function asError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  const err = new Error(thrownText(thrown));
  // Where we wrapped it is no news to anyone; a non-Error value carries no stack of its own.
  err.stack = `Error: ${err.message} (not an Error: no stack)`;
  return err;
}

function thrownText(value: unknown): string {
  return `threw ${describe(value)}`;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return String(value);
  try {
    // An object's contents (`{ code: 42 }`), not "[object Object]"; bounded, on one line.
    return inspect(value, { depth: 2, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 200 });
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Formats ErrorData for a log line: what failed, where, and the remote stack. */
export function formatErrorData(e: ErrorData): string {
  return new RemoteError(e).stack ?? e.message;
}

/**
 * Why creating a collection's elements failed, as the constructor's error said it: with its class
 * ("ReferenceError: data is not defined"), which the message alone leaves out; the runtime's own
 * CharmError needs no name.
 */
export function creationFailure(e: ErrorData): string {
  return e.name === "CharmError" ? e.message : `${e.name}: ${e.message}`;
}
