// Input history for history_request (spec: "History"): kept in memory for this kernel's life.
// One session number per kernel process, as ipykernel numbers its sessions in its database.
import type { ReplyContent, RequestContent } from "../protocol/messages.ts";
import { integerField, oneOf, stringField } from "./content.ts";
import { globMatch } from "./glob.ts";

type Entry = { line: number; input: string; output: string | null };
type Row = ReplyContent["history_request"] extends infer R ? (R extends { history: (infer H)[] } ? H : never) : never;

/** The cells executed with store_history, in order, with their text/plain results. */
export class History {
  private readonly entries: Entry[] = [];

  /** This process's history session number (history is not persisted, so always 1). */
  readonly session = 1;

  /** Records a cell's code under its execution count. */
  add(line: number, input: string): void {
    this.entries.push({ line, input, output: null });
  }

  /** Records the text/plain result of the cell with this execution count. */
  setOutput(line: number, output: string): void {
    const e = this.entries.findLast((x) => x.line === line);
    if (e) e.output = output;
  }

  /** Answers a history_request. */
  query(req: RequestContent["history_request"]): Row[] {
    const rows = (list: Entry[]) => list.map((e) => this.row(e, req.output ?? false));
    switch (req.hist_access_type) {
      case "tail":
        return rows(tail(this.entries, req.n ?? 10));
      case "range": {
        // ipykernel: session <= 0 counts back from the current session; only ours exists here.
        const session = req.session ?? 0;
        if (session > 0 && session !== this.session) return [];
        const start = req.start ?? 1;
        const stop = req.stop ?? Infinity;
        return rows(this.entries.filter((e) => e.line >= start && e.line < stop));
      }
      case "search": {
        const pattern = req.pattern ?? "*";
        let found = this.entries.filter((e) => globMatch(pattern, e.input));
        if (req.unique) {
          // Keep the latest occurrence of each input, in chronological order.
          const last = new Map(found.map((e) => [e.input, e] as const));
          found = found.filter((e) => last.get(e.input) === e);
        }
        return rows(req.n === undefined ? found : tail(found, req.n));
      }
      default: {
        const never: never = req.hist_access_type;
        throw new Error(`unknown hist_access_type ${String(never)}`);
      }
    }
  }

  private row(e: Entry, withOutput: boolean): Row {
    return [this.session, e.line, withOutput ? [e.input, e.output] : e.input];
  }
}

function tail<T>(list: T[], n: number): T[] {
  return n <= 0 ? [] : list.slice(-n);
}

/** A history_request's content, checked field by field (throws InvalidRequest). */
export function readHistoryRequest(content: Readonly<Record<string, unknown>>): RequestContent["history_request"] {
  return {
    hist_access_type: oneOf(content, "hist_access_type", ["range", "tail", "search"] as const),
    output: content.output === true,
    raw: content.raw !== false,
    session: integerField(content, "session"),
    start: integerField(content, "start"),
    stop: integerField(content, "stop"),
    n: integerField(content, "n"),
    pattern: stringField(content, "pattern", "*"),
    unique: content.unique === true,
  };
}
