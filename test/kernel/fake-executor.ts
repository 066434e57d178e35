// A scripted stand-in for the cell executor, for handler tests that need no worker thread.
import type { CellOutput, CellResult, CommOutcome, CommWire, InputRequest } from "../../kernel/cells/executor.ts";
import { CommTable } from "../../kernel/handlers/comms.ts";
import type { KernelState } from "../../kernel/handlers/context.ts";
import { History } from "../../kernel/handlers/history.ts";

type Hooks = { output(o: CellOutput): void; input(req: InputRequest): Promise<string> };

/** Maps code to a behaviour: outputs to emit, then a result (or a function of the hooks). */
export type Script = Record<string, (hooks: Hooks) => Promise<CellResult> | CellResult>;

/** Answers a comm delivery in place of the cells' handlers. */
export type CommScript = (message: CommWire, origin: unknown) => CommOutcome;

/** No target registered, no comm known. */
const noComms: CommScript = (m) => (m.type === "comm_open" ? { kind: "unknown-target" } : { kind: "unknown-comm" });

/**
 * A KernelState whose executor follows `script`; unknown code evaluates to nothing. Comm
 * deliveries are answered by `comms` and recorded in `delivered`.
 */
export function fakeState(script: Script = {}, comms: CommScript = noComms): KernelState & { interrupts: number; ran: string[]; delivered: CommWire[] } {
  const state = {
    interrupts: 0,
    ran: [] as string[],
    delivered: [] as CommWire[],
    history: new History(),
    executionCount: 0,
    comms: new CommTable(),
    executor: {
      async execute(code: string, hooks: Hooks): Promise<CellResult> {
        state.ran.push(code);
        const f = script[code];
        return f ? f(hooks) : { status: "ok" };
      },
      async complete(code: string, cursorPos: number) {
        return { matches: ["console"], cursor_start: Math.max(0, cursorPos - 3), cursor_end: cursorPos, metadata: {} };
      },
      async inspect(code: string) {
        return code.includes("console") ? { found: true, data: { "text/plain": "var console: Console" } } : { found: false, data: {} };
      },
      async isComplete(code: string) {
        if (code.endsWith("{")) return { status: "incomplete" as const, indent: "  " };
        if (code.includes("(]")) return { status: "invalid" as const, indent: "ignored" };
        return { status: "complete" as const, indent: "ignored" };
      },
      interrupt() {
        state.interrupts++;
      },
      async deliverComm(message: CommWire, origin: unknown): Promise<CommOutcome> {
        state.delivered.push(message);
        return comms(message, origin);
      },
    },
  };
  return state;
}
