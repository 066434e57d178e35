/**
 * Argument codec: copies a value for sending (so the receiver never aliases the sender's data,
 * even on the same PE), swaps runtime objects (proxies, futures, channels, registered classes)
 * for tagged references, and rejects what can't cross with the path of the offending value.
 * The result is structured-cloneable; typed-array copies are listed for zero-copy transfer.
 */
import { CharmError } from "./errors.ts";
import { takeGiven } from "./moved.ts";
import { unsendableBuiltin, unsendableMessage } from "./unsendable.ts";

/** Objects that travel as references implement this: return a plain, cloneable description. */
export const toWire: unique symbol = Symbol("charm4ts.toWire");
/** A runtime object that can be sent: it describes itself with `[toWire]()`. */
export interface WireObject {
  [toWire](): { $charm: string };
}

const TAG = "$charm";
const revivers = new Map<string, (data: any) => unknown>();
const serializableByName = new Map<string, Function>();
const nameBySerializable = new Map<Function, string>();

/** Registers how a tagged reference of `kind` is rebuilt on arrival. */
export function registerReviver(kind: string, revive: (data: any) => unknown): void {
  revivers.set(kind, revive);
}

/** Lets instances of a user class cross PEs: own fields are copied, the prototype restored by name. */
export function registerSerializable(cls: Function, name = cls.name): void {
  const builtin = unsendableBuiltin(cls, true);
  if (builtin) throw new CharmError(unsendableMessage(`charm.serializable(${cls.name || "an unnamed class"}): its instances are ${builtin.name}s`, builtin.instead));
  const existing = serializableByName.get(name);
  if (existing && existing !== cls) nameBySerializable.delete(existing);
  serializableByName.set(name, cls);
  nameBySerializable.set(cls, name);
}

/** Whether this endpoint can rebuild a tagged reference of `tag` (for "obj": of serializable class `cls`). */
export function canRevive(tag: string, cls?: string): boolean {
  return tag === "obj" ? serializableByName.has(cls ?? "") : revivers.has(tag);
}

/** An encoded argument list: `a` to send, `r` set when a decode walk is needed on arrival. */
export interface EncodedArgs {
  a: unknown[];
  r?: 1;
  transfer?: ArrayBuffer[];
}

class Encoder {
  refs = false;
  transfer: ArrayBuffer[] | undefined;
  /** Bytes of binary data met (typed arrays, ArrayBuffers), copied or not. */
  bytes = 0;

  /** `copy` false: binary data is kept as it is, for a caller that serializes it before anything can change it. */
  constructor(private readonly copy = true) {}
  // What was already encoded (shared and circular references stay so): the first object in two
  // fields, since most values hold one (a typed array, an array), and a Map only from the second.
  private firstOriginal: object | undefined;
  private firstCopy: unknown;
  private seen: Map<object, unknown> | undefined;

  encode(value: unknown, path: string): unknown {
    switch (typeof value) {
      case "number": case "string": case "boolean": case "undefined": case "bigint":
        return value;
      case "function": {
        // A bound entry method (proxy.method) describes itself like a proxy; other functions can't cross.
        const describe = (value as Partial<WireObject>)[toWire];
        if (typeof describe === "function") {
          this.refs = true;
          return describe.call(value);
        }
        throw new CharmError(`${path} is a function (${value.name || "anonymous"}); functions can't be sent to another PE. Send data, a proxy, or a bound entry method instead.`);
      }
      case "symbol":
        throw new CharmError(`${path} is a symbol (${String(value)}); symbols can't be sent to another PE.`);
    }
    if (value === null) return null;
    const obj = value as object;
    const prior = obj === this.firstOriginal ? this.firstCopy : this.seen?.get(obj);
    if (prior !== undefined) return prior;
    // A property read, not `in`: proxies answer reads through their get trap.
    const describe = (obj as Partial<WireObject>)[toWire];
    if (typeof describe === "function") {
      this.refs = true;
      return describe.call(obj);
    }
    if (ArrayBuffer.isView(obj)) return this.copyView(obj);
    if (obj instanceof ArrayBuffer) {
      this.bytes += obj.byteLength;
      if (!this.copy) return obj;
      const copy = copyBytes(obj, 0, obj.byteLength);
      (this.transfer ??= []).push(copy);
      return this.keep(obj, copy);
    }
    if (obj instanceof SharedArrayBuffer) return obj; // shared on purpose: the user asked for aliasing
    if (Array.isArray(obj)) {
      const out: unknown[] = new Array(obj.length);
      this.remember(obj, out);
      for (let i = 0; i < obj.length; i++) out[i] = this.encode(obj[i], `${path}[${i}]`);
      return out;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto === Object.prototype || proto === null) return this.encodeFields(obj, path, {});
    if (obj instanceof Map) {
      const out = new Map();
      this.remember(obj, out);
      let i = 0;
      for (const [k, v] of obj) { out.set(this.encode(k, `${path}.key(${i})`), this.encode(v, `${path}.get(${String(k)})`)); i++; }
      return out;
    }
    if (obj instanceof Set) {
      const out = new Set();
      this.remember(obj, out);
      let i = 0;
      for (const v of obj) out.add(this.encode(v, `${path}.item(${i++})`));
      return out;
    }
    if (obj instanceof Date) return new Date(obj.getTime());
    if (obj instanceof RegExp) return new RegExp(obj.source, obj.flags);
    if (obj instanceof Error) return obj; // structured clone keeps name, message and stack
    const name = nameBySerializable.get(proto.constructor);
    if (name !== undefined) {
      this.refs = true;
      const tagged: Record<string, unknown> = { [TAG]: "obj", cls: name };
      tagged.f = this.encodeFields(obj, path, {});
      return tagged;
    }
    // Checked after registered classes: a registered subclass of one was refused at registration.
    const builtin = unsendableBuiltin(obj);
    if (builtin) throw new CharmError(unsendableMessage(`${path} is a ${builtin.name}`, builtin.instead));
    const cls = proto?.constructor?.name || "an unnamed class";
    throw new CharmError(
      `${path} is an instance of ${cls}, which can't be sent to another PE. ` +
      `Register it on every PE with charm.serializable(${cls}) (its own fields are copied), or send plain data.`,
    );
  }

  private encodeFields(obj: object, path: string, out: Record<string, unknown>): Record<string, unknown> {
    this.remember(obj, out);
    for (const key of Object.keys(obj)) out[key] = this.encode((obj as any)[key], `${path}.${key}`);
    return out;
  }

  private copyView(view: ArrayBufferView): ArrayBufferView {
    this.bytes += view.byteLength;
    if (view.buffer instanceof SharedArrayBuffer || !this.copy) return view;
    const { byteOffset, byteLength } = view;
    // Given up by the sender (charm.move): its own memory moves, detached here. Otherwise one
    // memcpy here, and the copy's buffer is then transferred, not cloned again.
    const given = takeGiven(view);
    const bytes = given ?? copyBytes(view.buffer, byteOffset, byteLength);
    const offset = given ? byteOffset : 0;
    const Ctor = view.constructor as new (b: ArrayBuffer, o: number, n: number) => ArrayBufferView;
    const copy = view instanceof DataView ? new DataView(bytes, offset, byteLength) : new Ctor(bytes, offset, byteLength / (view as unknown as Uint8Array).BYTES_PER_ELEMENT);
    (this.transfer ??= []).push(bytes);
    return this.keep(view, copy);
  }

  private keep<T>(original: object, copy: T): T {
    this.remember(original, copy);
    return copy;
  }

  private remember(original: object, copy: unknown): void {
    if (this.firstOriginal === undefined) {
      this.firstOriginal = original;
      this.firstCopy = copy;
      return;
    }
    (this.seen ??= new Map()).set(original, copy);
  }
}

// Above this size a copy goes into malloc'd memory (Buffer.allocUnsafeSlow) instead of a fresh
// zeroed ArrayBuffer: V8's calloc path page-faults on every 4 KiB page each time (~15 µs a fault
// on this VM, 0.2 GB/s for 1 MiB), while malloc reuses freed heap pages (~5× faster).
const MALLOC_COPY_BYTES = 4096;

/** A private copy of `length` bytes of `buffer` from `offset`, in a buffer that can be transferred. */
function copyBytes(buffer: ArrayBufferLike, offset: number, length: number): ArrayBuffer {
  if (length < MALLOC_COPY_BYTES) return (buffer as ArrayBuffer).slice(offset, offset + length);
  const out = Buffer.allocUnsafeSlow(length).buffer as ArrayBuffer; // every byte overwritten below
  new Uint8Array(out).set(new Uint8Array(buffer, offset, length));
  return out;
}

/** Encodes an argument list; throws CharmError naming `args[i]…` for anything that can't cross. */
export function encodeArgs(args: readonly unknown[]): EncodedArgs {
  // Fast path: all primitives (the common case for small entry-method calls).
  let simple = true;
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    if (v !== null && (typeof v === "object" || typeof v === "function" || typeof v === "symbol")) { simple = false; break; }
  }
  if (simple) return { a: args.slice() };
  const enc = new Encoder();
  const a: unknown[] = new Array(args.length);
  for (let i = 0; i < args.length; i++) {
    try {
      a[i] = enc.encode(args[i], argPath(i));
    } catch (err) {
      throw tooDeep(err, argPath(i));
    }
  }
  return { a, r: enc.refs ? 1 : undefined, transfer: enc.transfer };
}

/**
 * The error to throw for `err` from encoding `what`: the walk is recursive, so a value nested
 * thousands of levels deep (a long linked list) overflows the stack; that is said in words.
 */
function tooDeep(err: unknown, what: string): unknown {
  if (!(err instanceof RangeError) || !/call stack/i.test(err.message)) return err;
  return new CharmError(`${what} is nested too deeply to send (thousands of levels, such as a long linked list): send it flattened (an array of its items)`);
}

// An argument's path is used only in error messages, but is passed on every call that sends an
// object (a proxy, for Fib): the common ones are made once.
const ARG_PATHS = Array.from({ length: 8 }, (_, i) => `args[${i}]`);
function argPath(i: number): string {
  return ARG_PATHS[i] ?? `args[${i}]`;
}

/**
 * Encodes one value (a future's result, a channel message, a reduction contribution); `bytes`
 * counts its binary data. With `copy` false binary data is not copied: only for a caller that
 * serializes the result at once (a checkpoint).
 */
export function encodeValue(value: unknown, what: string, copy = true): { v: unknown; r?: 1; transfer?: ArrayBuffer[]; bytes?: number } {
  // Fast path: a primitive needs no copy and no walk (reductions and replies are mostly numbers).
  if (value === null || (typeof value !== "object" && typeof value !== "function" && typeof value !== "symbol")) return { v: value };
  const enc = new Encoder(copy);
  let v: unknown;
  try {
    v = enc.encode(value, what);
  } catch (err) {
    throw tooDeep(err, what);
  }
  return { v, r: enc.refs ? 1 : undefined, transfer: enc.transfer, bytes: enc.bytes };
}

/** Rebuilds tagged references inside a received value (in place where possible). */
export function decode(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  return decodeIn(value, new Map());
}

// `done`: each object met already, and what it became. The encoder keeps shared and circular
// references (and structured clone and V8's serializer keep them), so one object may be met again.
function decodeIn(value: unknown, done: Map<object, unknown>): unknown {
  if (value === null || typeof value !== "object") return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  const prior = done.get(value);
  if (prior !== undefined) return prior;
  if (Array.isArray(value)) {
    done.set(value, value);
    for (let i = 0; i < value.length; i++) value[i] = decodeIn(value[i], done);
    return value;
  }
  if (value instanceof Map) {
    const out = new Map();
    done.set(value, out);
    for (const [k, v] of value) out.set(decodeIn(k, done), decodeIn(v, done));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    done.set(value, out);
    for (const v of value) out.add(decodeIn(v, done));
    return out;
  }
  const tag = (value as any)[TAG];
  if (typeof tag === "string") {
    if (tag === "obj") return reviveObject(value as any, done);
    const revive = revivers.get(tag);
    if (!revive) throw new CharmError(`received a ${tag} reference, but this PE doesn't know how to rebuild it`);
    const out = revive(value);
    done.set(value, out);
    return out;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    done.set(value, value);
    for (const key of Object.keys(value)) (value as any)[key] = decodeIn((value as any)[key], done);
  }
  return value;
}

function reviveObject(data: { cls: string; f: Record<string, unknown> }, done: Map<object, unknown>): unknown {
  const cls = serializableByName.get(data.cls);
  if (!cls) {
    throw new CharmError(`received an instance of ${data.cls}, but ${data.cls} isn't registered on this PE; call charm.serializable(${data.cls}) in the module every PE loads`);
  }
  const out = Object.create(cls.prototype);
  // The encoder remembered the instance as its fields object: a reference back to it is that object.
  done.set(data, out);
  done.set(data.f, out);
  for (const key of Object.keys(data.f)) out[key] = decodeIn(data.f[key], done);
  return out;
}

/** Decodes an argument list when the message says it holds references. */
export function decodeArgs(a: unknown[], r: 1 | undefined): unknown[] {
  return r ? (decode(a) as unknown[]) : a;
}
