/**
 * A compact batch format for one sender→receiver stream. Structured-cloning an array of message
 * objects costs ~4 µs to write and ~8 µs to read per message (measured); the hot messages
 * (an entry-method call with primitive arguments, a future's primitive value) are written
 * instead as float64 words into a reused buffer, with proxy refs and method names interned
 * per stream. Anything else rides along as an "extra" object in the same order.
 */
import type { CollectionId, FutureId } from "../protocol/ids.ts";
import type { CollectionKind, Message, ProxyRef } from "../protocol/messages.ts";

/** One batch on the wire: float64 words, and the objects the words refer to, in order. */
export interface WireBatch {
  w: Float64Array;
  x: unknown[];
}

const OP_OBJECT = 0;
const OP_INVOKE = 1;
const OP_DEFREF = 2;
const OP_DEFSTR = 3;
const OP_RESOLVE = 4;
const OP_RESET = 5;
const OP_CREATE = 7;
const OP_INVOKE_INLINE = 8;
// The cause (the notebook cell whose work this is) of the messages that follow in the stream.
const OP_CAUSE = 9;

// Argument and value tags (a value word follows only numbers).
const T_NUMBER = 0;
const T_TRUE = 1;
const T_FALSE = 2;
const T_UNDEFINED = 3;
const T_NULL = 4;
const T_EXTRA = 5;
const T_PROXY = 6;

// Both interning tables start over past this many entries, so a program that touches millions
// of proxies (Fib) doesn't grow the receiver's table forever.
const TABLE_LIMIT = 1 << 16;
const EMPTY_WORDS = new Float64Array(0);

/** Writes messages for one destination; `take()` hands over a batch and starts the next. */
export class WireWriter {
  private words = new Float64Array(1024);
  private n = 0;
  private extras: unknown[] = [];
  private refs = new WeakMap<object, number>();
  private strs = new Map<string, number>();
  private nextId = 0;
  private cause = 0;

  /** Number of words written since the last take (to decide when to post early). */
  get size(): number {
    return this.n;
  }

  /** Number of messages written as objects since the last take (their size is known only once encoded). */
  get extraCount(): number {
    return this.extras.length;
  }

  /** Whether nothing was written since the last take. */
  get empty(): boolean {
    return this.n === 0;
  }

  /** Appends one message. */
  write(msg: Message, cause = 0): void {
    if (cause !== this.cause) {
      this.reserve(2);
      this.words[this.n++] = OP_CAUSE;
      this.words[this.n++] = cause;
      this.cause = cause;
    }
    if (msg.t === "invoke" && msg.to.idx !== undefined) {
      if (this.writeInvoke(msg)) return;
    } else if (msg.t === "create" && isSimpleRef(msg.ref) && (msg.idx === undefined || msg.idx.length === 1)) {
      if (this.writeCreate(msg)) return;
    } else if (msg.t === "resolve" && msg.r === undefined && isSimple(msg.v)) {
      this.reserve(4);
      this.words[this.n++] = OP_RESOLVE;
      this.words[this.n++] = msg.fid;
      this.writeValue(msg.v);
      return;
    }
    this.reserve(1);
    this.words[this.n++] = OP_OBJECT;
    this.extras.push(msg);
  }

  /** The words written since the last take, in words[0..size) (the buffer is reused: copy before the next write). */
  get buffer(): Float64Array {
    return this.words;
  }

  /** Forgets the batch so far, once its words were copied elsewhere (it had no extras). */
  clear(): void {
    this.n = 0;
  }

  /** The batch so far (copied out, so the buffer is reused); undefined when empty. */
  take(): WireBatch | undefined {
    if (this.n === 0) return undefined;
    const batch = { w: this.words.slice(0, this.n), x: this.extras };
    this.n = 0;
    this.extras = [];
    return batch;
  }

  private writeInvoke(msg: Extract<Message, { t: "invoke" }>): boolean {
    const a = msg.a;
    if (!this.prepare(a)) return false; // interns first: definitions precede the op's words
    const m = this.strId(msg.m);
    // A singleton's or group element's ref goes inline: interning it would keep a WeakMap entry
    // per proxy (Fib calls each parent once), and ephemeron tables are costly for the GC.
    const inline = isSimpleRef(msg.to);
    if (inline) {
      this.internRef(msg.to);
      this.writeRefWords(OP_INVOKE_INLINE, msg.to);
    } else {
      const ref = this.refId(msg.to);
      this.reserve(2);
      this.words[this.n++] = OP_INVOKE;
      this.words[this.n++] = ref;
    }
    this.reserve(5);
    const w = this.words;
    let n = this.n;
    w[n++] = m;
    w[n++] = msg.reply ? msg.reply.fid : 0;
    w[n++] = msg.reply ? (msg.reply.mode === "value" ? 1 : 2) : 0;
    w[n++] = msg.r ? 1 : 0;
    w[n++] = a.length;
    this.n = n;
    for (let i = 0; i < a.length; i++) this.writeValue(a[i]);
    return true;
  }

  // A singleton's or group's creation (Fib makes one per call): all words, no cloned objects.
  private writeCreate(msg: Extract<Message, { t: "create" }>): boolean {
    if (!this.prepare(msg.a)) return false;
    this.internRef(msg.ref);
    this.writeRefWords(OP_CREATE, msg.ref);
    this.reserve(4);
    const w = this.words;
    w[this.n++] = msg.idx === undefined ? -1 : msg.idx[0]!;
    w[this.n++] = msg.ack === undefined ? NaN : msg.ack;
    w[this.n++] = msg.r ? 1 : 0;
    w[this.n++] = msg.a.length;
    for (let i = 0; i < msg.a.length; i++) this.writeValue(msg.a[i]);
    return true;
  }

  /** Checks that `a` can be written as words, interning the strings its proxies need. */
  private prepare(a: unknown[]): boolean {
    this.maybeReset(); // before any lookup, so every id of one message belongs to one table
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (isSimple(v)) continue;
      if (!isTaggedProxy(v)) return false;
      this.internRef(v);
    }
    return true;
  }

  private internRef(ref: ProxyRef): void {
    this.strId(ref.cls);
    this.strId(ref.kind);
  }

  private writeRefWords(op: number, ref: ProxyRef): void {
    const idx = ref.idx;
    this.reserve(7 + (idx ? idx.length : 0));
    const w = this.words;
    let n = this.n;
    if (op >= 0) w[n++] = op;
    w[n++] = ref.cid;
    w[n++] = this.strs.get(ref.cls)!;
    w[n++] = this.strs.get(ref.kind)!;
    w[n++] = ref.pe === undefined ? -1 : ref.pe;
    w[n++] = idx ? idx.length : -1;
    if (idx) for (let i = 0; i < idx.length; i++) w[n++] = idx[i]!;
    this.n = n;
  }

  private writeValue(v: unknown): void {
    this.reserve(2);
    const w = this.words;
    switch (typeof v) {
      case "number": w[this.n++] = T_NUMBER; w[this.n++] = v; return;
      case "boolean": w[this.n++] = v ? T_TRUE : T_FALSE; return;
      case "undefined": w[this.n++] = T_UNDEFINED; return;
      default:
        if (v === null) { w[this.n++] = T_NULL; return; }
        if (isTaggedProxy(v)) { w[this.n++] = T_PROXY; this.writeRefWords(-1, v); return; }
        w[this.n++] = T_EXTRA;
        this.extras.push(v); // strings and bigints: immutable, cloned by postMessage
    }
  }

  private refId(ref: ProxyRef): number {
    let id = this.refs.get(ref);
    if (id !== undefined) return id;
    id = this.nextId++;
    this.refs.set(ref, id);
    this.reserve(1);
    this.words[this.n++] = OP_DEFREF;
    this.extras.push(ref);
    return id;
  }

  private strId(s: string): number {
    let id = this.strs.get(s);
    if (id !== undefined) return id;
    id = this.nextId++;
    this.strs.set(s, id);
    this.reserve(1);
    this.words[this.n++] = OP_DEFSTR;
    this.extras.push(s);
    return id;
  }

  private maybeReset(): void {
    if (this.nextId < TABLE_LIMIT) return;
    this.refs = new WeakMap();
    this.strs.clear();
    this.nextId = 0;
    this.reserve(1);
    this.words[this.n++] = OP_RESET;
  }

  private reserve(k: number): void {
    if (this.n + k <= this.words.length) return;
    const bigger = new Float64Array(Math.max(this.words.length * 2, this.n + k));
    bigger.set(this.words.subarray(0, this.n));
    this.words = bigger;
  }
}

// Refs without dims or a map (singletons, groups, their elements) travel as words.
function isSimpleRef(ref: ProxyRef): boolean {
  return ref.dims === undefined && ref.map === undefined && (ref.idx === undefined || ref.idx.length <= 6);
}

function isTaggedProxy(v: unknown): v is ProxyRef {
  return typeof v === "object" && v !== null && (v as { $charm?: unknown }).$charm === "proxy" && isSimpleRef(v as ProxyRef);
}

function isSimple(v: unknown): boolean {
  const t = typeof v;
  return t === "number" || t === "string" || t === "boolean" || t === "undefined" || v === null;
}

/** Reads batches from one sender, keeping that stream's interning tables. */
// The reader keeps its cursor in fields and its helpers as methods, not closures: the build's
// keepNames wraps every named closure in a defineProperty that turns it into a dictionary-mode
// object (~3× slower to make), and read() runs once per batch.
export class WireReader {
  private table: unknown[] = [];
  private w: Float64Array = EMPTY_WORDS;
  private x: unknown[] = [];
  private i = 0;
  private xi = 0;
  /** The stream's current cause: set by OP_CAUSE, kept across batches like the tables. */
  private cause = 0;

  /** Calls `deliver` for every message of `batch`, in order, with the cause it was sent under. */
  read(batch: WireBatch, deliver: (msg: Message, cause: number) => void): void {
    const saved = { w: this.w, x: this.x, i: this.i, xi: this.xi }; // a nested read can't clobber this one
    const w = (this.w = batch.w);
    this.x = batch.x;
    this.i = 0;
    this.xi = 0;
    const table = this.table;
    try {
      while (this.i < w.length) {
        const op = w[this.i++];
        switch (op) {
          case OP_INVOKE: case OP_INVOKE_INLINE: {
            const to = op === OP_INVOKE ? (table[w[this.i++]!] as ProxyRef) : this.ref();
            const i = this.i;
            const m = table[w[i]!] as string;
            const fid = int(w[i + 1]!);
            const mode = w[i + 2]!;
            const r = w[i + 3] === 1 ? 1 : undefined;
            const argc = this.count(w[i + 4]!);
            this.i = i + 5;
            const a: unknown[] = new Array(argc);
            for (let k = 0; k < argc; k++) a[k] = this.value();
            deliver({ t: "invoke", to, m, a, r, reply: mode === 0 ? undefined : { fid: fid as FutureId, mode: mode === 1 ? "value" : "done" } }, this.cause);
            break;
          }
          case OP_CREATE: {
            const cref = this.ref();
            const i = this.i;
            const idx0 = int(w[i]!);
            const ack = int(w[i + 1]!);
            const r = w[i + 2] === 1 ? 1 : undefined;
            const argc = this.count(w[i + 3]!);
            this.i = i + 4;
            const a: unknown[] = new Array(argc);
            for (let k = 0; k < argc; k++) a[k] = this.value();
            deliver({ t: "create", ref: cref, a, r, idx: idx0 < 0 ? undefined : [idx0], ack: Number.isNaN(ack) ? undefined : ack }, this.cause);
            break;
          }
          case OP_RESOLVE: {
            const fid = int(w[this.i++]!) as FutureId;
            deliver({ t: "resolve", fid, v: this.value() }, this.cause);
            break;
          }
          case OP_OBJECT: deliver(this.x[this.xi++] as Message, this.cause); break;
          case OP_CAUSE: this.cause = w[this.i++]!; break;
          case OP_DEFREF: case OP_DEFSTR: table.push(this.x[this.xi++]); break;
          case OP_RESET: table.length = 0; break;
          default: throw new Error(`corrupt message batch (op ${op})`);
        }
      }
    } finally {
      this.w = saved.w;
      this.x = saved.x;
      this.i = saved.i;
      this.xi = saved.xi;
    }
  }

  /** A count read from the words: each item takes at least one more word, so more than are left is a corrupt batch (not a loop of billions). */
  private count(n: number): number {
    if (!(n >= 0 && n <= this.w.length - this.i)) throw new Error(`corrupt message batch (a count of ${n} with ${this.w.length - this.i} words left)`);
    return n;
  }

  private value(): unknown {
    const w = this.w;
    switch (w[this.i++]) {
      case T_NUMBER: return int(w[this.i++]!);
      case T_TRUE: return true;
      case T_FALSE: return false;
      case T_UNDEFINED: return undefined;
      case T_NULL: return null;
      case T_PROXY: { const r = this.ref() as ProxyRef & { $charm?: string }; r.$charm = "proxy"; return r; }
      default: return this.x[this.xi++];
    }
  }

  private ref(): ProxyRef {
    const w = this.w;
    const table = this.table;
    let i = this.i;
    const cid = int(w[i]!) as CollectionId;
    const cls = table[w[i + 1]!] as string;
    const kind = table[w[i + 2]!] as CollectionKind;
    const pe = int(w[i + 3]!);
    const len = w[i + 4]! < 0 ? -1 : this.count(w[i + 4]!);
    i += 5;
    let idx: number[] | undefined;
    if (len >= 0) {
      idx = new Array(len);
      for (let k = 0; k < len; k++) idx[k] = int(w[i++]!);
    }
    this.i = i;
    // Whole literals, not fields added one by one: the later ones went to a separate property
    // array, one more object per ref.
    if (pe >= 0) return idx ? { cid, cls, kind, pe, idx } : { cid, cls, kind, pe };
    return idx ? { cid, cls, kind, idx } : { cid, cls, kind };
  }
}

/**
 * A number read from the words, as an integer when it is one that fits 32 bits. A Float64Array
 * gives doubles, and a double stored in a field makes V8 box that field in a heap number of its
 * own in every object of the shape (about five per Fib chare: refs' ids, the chare's own fields).
 */
function int(v: number): number {
  return (v | 0) === v && (v !== 0 || 1 / v > 0) ? v | 0 : v;
}
