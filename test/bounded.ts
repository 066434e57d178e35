// Bounded waits for tests: a hang fails with what the test was waiting for, not a vitest timeout.
import { charm } from "../runtime/index.ts";

/** Resolves as `work` does, or rejects after `ms` saying what was awaited (and `detail()`, if given). */
export async function bounded<T>(work: PromiseLike<T>, ms: number, what: string, detail?: () => Promise<string>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((resolve) => { timer = setTimeout(() => resolve("expired"), ms); });
  try {
    const first = await Promise.race([Promise.resolve(work).then((v) => ({ v })), expired]);
    if (first !== "expired") return first.v;
  } finally {
    clearTimeout(timer);
  }
  const more = detail ? await detail().catch((err: unknown) => `(no detail: ${String(err)})`) : "";
  throw new Error(`waited ${ms} ms for ${what}${more ? `\n${more}` : ""}`);
}

/** What each PE holds and has moved (for a bounded wait's failure message), itself bounded. */
export async function runtimeState(): Promise<string> {
  const status = await bounded(charm.status(), 3000, "charm.status() while describing a hang");
  return status.pes.map((p) => `PE ${p.pe}: ${p.chares} chares, sent ${p.sent}, handled ${p.handled}${p.held ? `, holding ${JSON.stringify(p.held)}` : ""}`).join("\n");
}
