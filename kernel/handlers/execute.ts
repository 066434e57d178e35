// execute_request (spec: "Execute"): runs one cell through the executor and turns what it does
// into iopub messages. Every output reaches `publish` before this returns, so the server's idle
// always follows the cell's last output (nbclient stops reading a cell's outputs at its idle).
import type { CellOutput, CellResult } from "../cells/executor.ts";
import type { IncomingOf, ReplyContent } from "../protocol/messages.ts";
import { publishComm } from "./comms.ts";
import { stringField } from "./content.ts";
import type { KernelState, RequestScope } from "./context.ts";
import { helpPayload, parseHelp } from "./help.ts";

type ExecuteReply = ReplyContent["execute_request"];

/** Runs a cell and returns its execute_reply content. */
export async function handleExecute(
  state: KernelState,
  request: IncomingOf<"execute_request">,
  scope: RequestScope,
): Promise<ExecuteReply> {
  const c = request.content;
  const code = stringField(c, "code", "");
  const silent = c.silent === true;
  // Spec: silent forces store_history to false.
  const storeHistory = !silent && c.store_history !== false;
  if (storeHistory) {
    state.executionCount += 1;
    state.history.add(state.executionCount, code);
  }
  const count = state.executionCount;
  // Spec: a silent execute broadcasts nothing on iopub, execute_input included.
  if (!silent) scope.publish("execute_input", { code, execution_count: count });

  const help = parseHelp(code);
  if (help) {
    // `name?` pages documentation instead of running (IPython's convention).
    const { payload, notFound } = await helpPayload(state, help);
    if (notFound && !silent) scope.publish("stream", { name: "stdout", text: notFound });
    return { status: "ok", execution_count: count, payload, user_expressions: {} };
  }

  const result = await state.executor.execute(
    code,
    {
      output: (o) => {
        // A comm message is not display: it goes out even from a silent execute, or the frontend
        // would never learn of a comm the cell opened.
        if (!silent || o.kind === "comm") publishOutput(scope, o);
      },
      input: (req) => (c.allow_stdin === false ? Promise.reject(noStdin()) : scope.input(req)),
    },
    // Tracebacks then name the cell by its execution count, as the notebook shows it.
    storeHistory ? { name: `cell-${count}.ts` } : {},
  );

  if (result.status === "error") {
    // Exactly one iopub error per failed cell; the traceback is not also printed (it would show twice).
    const { ename, evalue, traceback } = result;
    if (!silent) scope.publish("error", { ename, evalue, traceback });
    return { status: "error", ename, evalue, traceback, execution_count: count, payload: [], user_expressions: {} };
  }
  if (result.value && !silent) {
    scope.publish("execute_result", { execution_count: count, data: result.value.data, metadata: result.value.metadata });
    const text = result.value.data["text/plain"];
    if (storeHistory && typeof text === "string") state.history.setOutput(count, text);
  }
  const userExpressions = await evaluateUserExpressions(state, c.user_expressions, scope);
  return { status: "ok", execution_count: count, payload: [], user_expressions: userExpressions };
}

/** Maps one executor output to its iopub message. */
export function publishOutput(scope: RequestScope, o: CellOutput): void {
  switch (o.kind) {
    case "stream":
      scope.publish("stream", { name: o.name, text: o.text });
      return;
    case "display":
      // transient is always an object, never null: frontends read its fields without a check.
      scope.publish(o.update ? "update_display_data" : "display_data", {
        data: o.data,
        metadata: o.metadata ?? {},
        transient: o.transient ?? {},
      });
      return;
    case "clear":
      scope.publish("clear_output", { wait: o.wait });
      return;
    case "comm":
      publishComm(scope.publish, o.message);
      return;
    default: {
      const never: never = o;
      throw new Error(`unknown cell output ${JSON.stringify(never)}`);
    }
  }
}

/** Evaluates user_expressions after a successful cell; each becomes a mime bundle or an error. */
async function evaluateUserExpressions(
  state: KernelState,
  expressions: Record<string, string> | undefined,
  scope: RequestScope,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  if (!expressions || typeof expressions !== "object") return out;
  for (const [name, expr] of Object.entries(expressions)) {
    // Their output is discarded (but comm messages) and they can't read stdin: they must not look like a cell's work.
    const r: CellResult = await state.executor.execute(String(expr), {
      output: (o) => {
        if (o.kind === "comm") publishOutput(scope, o);
      },
      input: () => Promise.reject(noStdin()),
    });
    out[name] =
      r.status === "ok"
        ? { status: "ok", data: r.value?.data ?? { "text/plain": "undefined" }, metadata: r.value?.metadata ?? {} }
        : { status: "error", ename: r.ename, evalue: r.evalue, traceback: r.traceback };
  }
  return out;
}

function noStdin(): Error {
  const e = new Error("input is not available: this frontend does not accept stdin (allow_stdin is false)");
  e.name = "StdinNotImplementedError";
  return e;
}
