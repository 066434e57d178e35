/** Shared test plumbing: hooks that record a cell's outputs, and deferreds to order events. */
import type { CellOutput, ExecuteHooks, InputRequest } from "../../../kernel/cells/executor.ts";

/** A promise with its resolver exposed, to wait for an event instead of sleeping. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Hooks that keep every output; `answer` replies to input requests, which are recorded too. */
export function recorder(answer = "") {
  const outputs: CellOutput[] = [];
  const inputs: InputRequest[] = [];
  const hooks: ExecuteHooks = {
    output: (output) => outputs.push(output),
    input: async (request) => {
      inputs.push(request);
      return answer;
    },
  };
  const text = (name: "stdout" | "stderr") =>
    outputs.map((o) => (o.kind === "stream" && o.name === name ? o.text : "")).join("");
  return { hooks, outputs, inputs, stdout: () => text("stdout"), stderr: () => text("stderr") };
}
