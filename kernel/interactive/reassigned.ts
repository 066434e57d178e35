/**
 * Top-level names the PEs got from cells' declarations, assigned afterwards on the driver
 * (`speed = 2`, `speed++`, `cfg.n = 3`; in a cell, or in a function or callback a cell declared).
 * The driver's copy of each cell reports those assignments (assignments.ts wraps them), and the
 * name's value goes to every PE right before the driver's next message, whatever sends it: a call
 * made after the assignment sees the new value, one made before it the old. What is still unsent
 * when a cell ends goes then, and the cell waits a moment for the PEs to have it. Only constants of
 * literals can go (literal-source.ts): for another value the PEs keep the last one they had, and
 * the cell says so once, on stderr, with what to do. A name no code shipped to the PEs reads is
 * the driver's own business until some shipped code reads it: then its value goes first.
 */
import { literalSource } from "./literal-source.ts";
import type { CellDeclarations } from "./shippable.ts";

/** The definition log's key of a name's value set by assignment. */
const KEY = "assigned:";
/**
 * How long a cell's end waits for the PEs to have its values. Nothing needs more: every later
 * message of the driver reaches a PE after them anyway. The wait closes the window in which a
 * chare's message to another PE could overtake them, without holding a cell up behind a PE busy
 * with earlier work.
 */
const SETTLE_MS = 250;
// Captured before any cell runs: a cell that replaces setTimeout can't break the wait.
const safeSetTimeout = setTimeout;
const safeClearTimeout = clearTimeout;

/** How values reach the PEs: through the runtime, or a test's stand-in. */
export interface ReassignIo {
  /**
   * Ships a definition script to every PE, now and to PEs started later (charm.define); a script
   * with the same `key` as the log's last one takes its place there.
   */
  define(code: string, key: string): Promise<void>;
  /** Runs `work` right before this thread's next message (the runtime's beforeNextSend). */
  beforeNextSend(work: () => void): void;
}

/** The cells' top-level names the PEs have, and their values assigned since. */
export class Reassignments {
  private readonly onPes = new Set<string>();
  /** Names assigned since the last flush, each with a function that reads its current value. */
  private readonly dirty = new Map<string, () => unknown>();
  /** The name noted last, until the next flush: a loop assigning one name costs a comparison, not a map update. */
  private last: string | undefined;
  /** Names the code shipped to the PEs reads: only these need their new value there. */
  private readonly used = new Set<string>();
  /** Names assigned that no PE code reads yet, with their readers: sent once shipped code reads them. */
  private readonly parked = new Map<string, () => unknown>();
  /** The source last sent for each name, so the same value isn't sent again. */
  private readonly sent = new Map<string, string>();
  /** Names whose new value couldn't be sent, with what it was: the cell's notice. */
  private readonly stale = new Map<string, string>();
  private readonly failures: string[] = [];
  private sending: Array<Promise<void>> = [];

  constructor(private readonly io: ReassignIo) {}

  /** The names the PEs have from cells: assignments to these are wrapped in a cell's driver copy. */
  get names(): ReadonlySet<string> {
    return this.onPes;
  }

  /**
   * A cell is about to ship its declarations: names it declares reach the PEs with their declared
   * value, its driver-only names are not the PEs' (any more), and a value assigned earlier that its
   * shipped code reads goes to the PEs ahead of that code.
   */
  declared(names: Pick<CellDeclarations, "shipped" | "driverOnly" | "referenced">): void {
    for (const name of names.shipped) {
      this.forget(name);
      this.onPes.add(name);
    }
    for (const name of names.driverOnly) this.forget(name);
    for (const name of names.referenced) {
      this.used.add(name);
      const read = this.parked.get(name);
      if (read === undefined) continue;
      this.parked.delete(name);
      this.note(name, read);
    }
  }

  /** A cell's declarations failed on the PEs: the names it meant to ship are not theirs. */
  notShipped(names: readonly string[]): void {
    for (const name of names) this.forget(name);
  }

  /**
   * What a wrapped assignment calls (the cells' `__charm4tsAssigned`): notes that `name` changed,
   * to be read with `read` when the driver next sends, and gives back the assignment's value.
   */
  readonly assigned = <T>(value: T, name: string, read: () => unknown): T => {
    if (name !== this.last) this.note(name, read); // else noted already: any reader of the name reads the same binding
    return value;
  };

  /** Sends the values of the names assigned since the last flush, those that have a literal form. Never throws (it runs inside a send). */
  readonly flush = (): void => {
    this.last = undefined;
    if (this.dirty.size === 0) return;
    const changed: Array<[string, string]> = [];
    for (const [name, read] of this.dirty) {
      if (!this.onPes.has(name)) continue; // declared driver-only since the function that assigns it was made
      if (!this.used.has(name)) {
        this.parked.set(name, read); // a driver variable (`let error; try … catch (e) { error = e }`): no PE reads it
        continue;
      }
      let literal;
      try {
        literal = literalSource(read());
      } catch (error) {
        literal = { why: `a value that could not be read (${(error as Error)?.message ?? String(error)})` };
      }
      if ("why" in literal) {
        this.stale.set(name, literal.why);
        continue;
      }
      this.stale.delete(name);
      if (this.sent.get(name) === literal.source) continue;
      this.sent.set(name, literal.source);
      changed.push([name, literal.source]);
    }
    this.dirty.clear();
    // One script per name: setting it again replaces it in the log (a loop doesn't grow the log).
    for (const [name, source] of changed) {
      this.sending.push(this.io.define(setScript(name, source), `${KEY}${name}`).catch((error: Error) => {
        this.failures.push(`charm4ts: the new value of \`${name}\` could not be set on the PEs: ${error.message}\n`);
      }));
    }
  };

  /**
   * At a cell's end: sends what is left, waits until the PEs have it (at most SETTLE_MS; a failure
   * that comes later is told at a later cell's end), and gives the notice for the cell's stderr
   * (undefined when there is nothing to say).
   */
  async settle(): Promise<string | undefined> {
    this.flush();
    const sending = this.sending;
    this.sending = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = safeSetTimeout(resolve, SETTLE_MS)));
    await Promise.race([Promise.all(sending), late]).finally(() => safeClearTimeout(timer));
    const notice = [...this.failures.splice(0), staleNotice([...this.stale])].join("");
    this.stale.clear();
    return notice === "" ? undefined : notice;
  }

  /** Notes that `name` changed; the first change after a flush arms the next send. */
  private note(name: string, read: () => unknown): void {
    if (this.dirty.size === 0) this.io.beforeNextSend(this.flush);
    this.dirty.set(name, read);
    this.last = name;
  }

  private forget(name: string): void {
    this.onPes.delete(name);
    this.dirty.delete(name);
    this.parked.delete(name);
    if (this.last === name) this.last = undefined;
    this.sent.delete(name);
    this.stale.delete(name);
  }
}

/** One notice for every name whose new value the PEs couldn't get ("" for none). */
function staleNotice(stale: Array<[string, string]>): string {
  if (stale.length === 0) return "";
  const one = stale.length === 1;
  const list = stale.map(([name, why]) => `\`${name}\` (assigned ${why})`).join(", ");
  return `charm4ts: the PEs still see the old value${one ? "" : "s"} of ${list}: only constants of literals ` +
    "(numbers, strings, booleans, null, undefined, and arrays and plain objects of those) are sent to them when assigned. " +
    `Declare ${one ? "it" : "them"} again in a cell (\`let ${stale[0]![0]} = …\` with a literal value), ` +
    `or pass the value${one ? "" : "s"} to the chares as ${one ? "an argument" : "arguments"}.\n`;
}

/**
 * The script that sets `name` to `source` on a PE. A `const` object or array written through a
 * property (`state.count = 5`) can't be assigned there: its contents are replaced instead, in
 * place, so it stays the object the chares hold.
 */
export function setScript(name: string, source: string): string {
  return `try { ${name} = (${source}); } catch (error) {\n` +
    `  if (!(error instanceof TypeError) || typeof ${name} !== "object" || ${name} === null) throw error;\n` +
    `  const next = (${source});\n` +
    `  if (Array.isArray(${name})) ${name}.splice(0, ${name}.length, ...next);\n` +
    `  else { for (const key of Object.keys(${name})) delete ${name}[key]; Object.assign(${name}, next); }\n` +
    "}\n";
}
