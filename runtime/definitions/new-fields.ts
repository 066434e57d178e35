/**
 * New fields of a redefined chare class, for its live chares. A redefinition upgrades live chares
 * in place (they keep their fields and take the new methods), but a field the new class adds was
 * set only by its initializer, in the constructor, which live chares never run again: the first
 * `this.history.push(x)` failed with "Cannot read properties of undefined". A definition script
 * notes each class's instance fields (`FIELDS`); the upgrade gives a live chare each new field
 * whose initializer is a constant (`history = []`, `scale = SCALE * 2`), evaluated afresh per
 * chare, and counts the others, which the notebook then names.
 */

/** The global a definition script calls with a class's instance fields. */
export const FIELDS = "__charm4tsFields";

/** What upgrading one class's live chares on one PE did about new fields. */
export interface UpgradeNote {
  cls: string;
  /** Live chares upgraded. */
  live: number;
  /** New fields given their initial value. */
  filled: string[];
  /** New fields left undefined (their initializer isn't a constant). */
  missing: string[];
}

interface Fields {
  names: readonly string[];
  initial: Readonly<Record<string, () => unknown>>;
}

const fieldsOf = new WeakMap<Function, Fields>();
let notes: UpgradeNote[] = [];

/** Notes `cls`'s instance fields and the initializers that can run again for a live chare. */
export function noteFields(cls: Function, names: readonly string[], initial: Record<string, () => unknown>): void {
  fieldsOf.set(cls, { names, initial });
}

/** Gives `chares` (just upgraded to `next`) the fields they lack; notes what was done, for `takeUpgradeNotes`. */
export function fillNewFields(next: Function, chares: readonly object[]): void {
  const fields = fieldsOf.get(next);
  if (!fields || chares.length === 0) return;
  const filled = new Set<string>(), missing = new Set<string>();
  for (const chare of chares) {
    for (const name of fields.names) {
      if (Object.hasOwn(chare, name)) continue;
      const initial = fields.initial[name];
      try {
        if (!initial) throw new Error("not a constant");
        (chare as Record<string, unknown>)[name] = initial();
        filled.add(name);
      } catch {
        // Own from now on, though undefined: the user is told once, not at every later redefinition.
        (chare as Record<string, unknown>)[name] = undefined;
        missing.add(name);
      }
    }
  }
  if (filled.size + missing.size > 0) notes.push({ cls: next.name, live: chares.length, filled: [...filled], missing: [...missing] });
}

/** The notes of the upgrades since the last call (a definition script's, read right after it ran). */
export function takeUpgradeNotes(): UpgradeNote[] {
  const taken = notes;
  notes = [];
  return taken;
}

/** What the notebook says about the upgrades of one definition, every PE's notes together; undefined if nothing. */
export function describeUpgrades(perPe: ReadonlyArray<readonly UpgradeNote[] | null | undefined>): string | undefined {
  const byClass = new Map<string, { live: number; filled: Set<string>; missing: Set<string> }>();
  for (const note of perPe.flatMap((n) => n ?? [])) {
    const c = byClass.get(note.cls) ?? { live: 0, filled: new Set<string>(), missing: new Set<string>() };
    c.live += note.live;
    for (const f of note.filled) c.filled.add(f);
    for (const f of note.missing) c.missing.add(f);
    byClass.set(note.cls, c);
  }
  const lines: string[] = [];
  for (const [cls, c] of byClass) {
    const list = (names: Set<string>) => [...names].map((n) => `\`${n}\``).join(", ");
    const parts = [`charm4ts: ${cls} was redefined: its ${c.live} live chare${c.live === 1 ? "" : "s"} keep their state and take the new methods.`];
    if (c.filled.size) parts.push(`New field${c.filled.size === 1 ? "" : "s"} ${list(c.filled)}: given the initial value in them.`);
    const missing = [...c.missing].filter((n) => !c.filled.has(n));
    if (missing.length) parts.push(`New field${missing.length === 1 ? "" : "s"} ${list(new Set(missing))}: undefined in them (${missing.length === 1 ? "its initializer isn't a constant" : "their initializers aren't constants"}, and constructors don't run again) — set ${missing.length === 1 ? "it" : "them"} in an entry method, or create the chares again.`);
    lines.push(parts.join(" "));
  }
  return lines.length ? `${lines.join("\n")}\n` : undefined;
}
