/**
 * A PE lost after start-up, as the driver handles it: every endpoint is told, the futures
 * waiting on it reject with PeLostError, and the program hears of the loss once. If one of the
 * driver's futures received that PeLostError, or one of a live PE's (a chare there awaited a
 * call to it: loss-heard.ts asks them), the program heard it there (whoever awaits it gets it,
 * now or later); only a loss nobody anywhere could hear of is reported (charm.onError, or
 * printed: a script then ends) — as a loss, not as an error some code threw.
 */
import { PeLostError } from "../protocol/errors.ts";
import type { Endpoint } from "../protocol/ids.ts";
import type { ErrorData } from "../protocol/messages.ts";
import type { Runtime, RuntimeHooks } from "../core/runtime.ts";
import { ANSWER_WAIT_MS, heardOnPes } from "./loss-heard.ts";

/** Where a loss nobody heard of goes: the driver's hooks. */
type Report = Pick<RuntimeHooks, "onUnhandled">;

interface Loss {
  pe: Endpoint;
  how: string;
  which: string;
  stack: string;
  heard: number;
}

/**
 * Tells of lost PEs. PEs lost together (every PE of a killed process, in one turn) are one piece
 * of news: a PeLostError delivered for any of them counts for all.
 */
export class LostPes {
  private batch: Loss[] = [];

  constructor(private readonly runtime: () => Runtime | undefined, private readonly hooks: Report) {}

  /**
   * PE `pe` is lost: `how` says what happened ("was killed by SIGKILL", as PeLostError says it),
   * `which` which process or thread it was ("(process 123)"), `stack` the error it died of, if any.
   */
  lost(pe: Endpoint, how: string, which = "", stack = ""): void {
    const runtime = this.runtime();
    if (runtime?.failures.dead.has(pe)) return;
    const heard = runtime?.failures.peDied(pe, how) ?? 0;
    if (this.batch.length === 0) queueMicrotask(() => this.flush());
    this.batch.push({ pe, how, which, stack, heard });
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    if (batch.some((l) => l.heard > 0)) return;
    const runtime = this.runtime();
    if (!runtime) { this.report(batch, []); return; }
    // Not quiet until decided: a script that ends once quiet would end before the report (exit 0).
    const decided = runtime.scheduler.traffic.pending();
    // The batch's PEs are one question to each live PE; later losses are news of their own meanwhile.
    void heardOnPes(runtime, batch.map((l) => l.pe)).then((said) => {
      if (said.k === "unheard") this.report(batch, said.silent);
    }).finally(decided);
  }

  /** Nobody heard of the batch's losses: each is reported, saying which PEs never said whether they did. */
  private report(batch: Loss[], silent: Endpoint[]): void {
    for (const l of batch) this.hooks.onUnhandled(lostReport(l.pe, l.how, l.which, l.stack, silent));
  }
}

/**
 * The report of a loss nobody heard of: what happened, and what the program can do; `silent`:
 * the PEs that never said whether anything there waited on it.
 */
export function lostReport(pe: Endpoint, how: string, which: string, stack = "", silent: Endpoint[] = []): ErrorData {
  const message = `${lostText(pe, how, which)}; nothing was waiting on it${silent.length > 0 ? ` (${unanswered(silent)})` : ""}; its chares are lost. ` +
    "Calls to them throw PeLostError: catch it where you await them; charm.onError(handler) hears of such losses instead of " +
    `printing them (a script then carries on). ${PeLostError.remedy}`;
  return { name: "PeLostError", message, stack, pe, lost: true };
}

/** "PE 1 didn't answer within 5 s whether anything there was". */
function unanswered(silent: Endpoint[]): string {
  const who = silent.length === 1 ? `PE ${silent[0]}` : `PEs ${silent.join(", ")}`;
  return `${who} didn't answer within ${ANSWER_WAIT_MS / 1000} s whether anything there was`;
}

/** "PE 1 was lost (killed by SIGKILL, process 123)"; "… (stopped answering for 2.1 s, process 123); it was killed". */
function lostText(pe: Endpoint, how: string, which: string): string {
  const what = how.replace(/^was /, "");
  const [, before = which, inner, after = ""] = /^([^()]*)\(([^()]*)\)(.*)$/.exec(which) ?? [];
  const said = [what, before.trim()].filter(Boolean).join(" ");
  return `PE ${pe} was lost (${said}${inner ? `, ${inner}` : ""})${after}`;
}
