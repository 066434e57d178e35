/** Runs scripts in V8's REPL mode through the worker's own inspector session. */
import { Session } from "node:inspector";

/** How one evaluation ended. `terminated`: stopped by `Runtime.terminateExecution` (an interrupt). */
export type Evaluation =
  | { kind: "value"; value: unknown }
  | { kind: "none" }
  | { kind: "error"; error: unknown; line: number; column: number }
  | { kind: "terminated" };

interface RemoteObject {
  type: string;
  value?: unknown;
  unserializableValue?: string;
  objectId?: string;
}
interface EvaluateResponse {
  result: RemoteObject;
  exceptionDetails?: { exception?: RemoteObject; lineNumber: number; columnNumber: number };
}

const CAPTURE_KEY = Symbol.for("charm4ts.cells.capture");

/** The value of a remote primitive that travelled by value, or undefined when it needs a capture. */
function primitiveOf(remote: RemoteObject): { value: unknown } | undefined {
  if (remote.objectId !== undefined) return undefined;
  const unserializable = remote.unserializableValue;
  switch (remote.type) {
    case "undefined": return { value: undefined };
    case "string":
    case "boolean": return { value: remote.value };
    case "number": return { value: unserializable === undefined ? remote.value : Number(unserializable) };
    case "bigint": return unserializable === undefined ? undefined : { value: BigInt(unserializable.slice(0, -1)) };
    default: return undefined; // null comes as an object without a handle: capture keeps it exact
  }
}

/**
 * REPL mode gives what cells need and scripts don't: `let`/`const`/`class` may be declared again,
 * functions see later reassignments (real global bindings), and top-level `await` works.
 */
export class Evaluator {
  private readonly session = new Session();
  private globalObjectId = "";
  /**
   * Numbers each evaluation's object group and each capture's slot. An interrupted cell's
   * evaluation is abandoned, not stopped: it can settle while a later cell's does, in the same
   * turn. Shared names let one release the other's handles or read the other's captured value
   * (a cell failing with `undefined` instead of its error).
   */
  private serial = 0;

  /** Connects to this thread's isolate (inside a worker, `connect()` targets the worker). */
  async start(): Promise<void> {
    this.session.connect();
    const response = await this.post<EvaluateResponse>("Runtime.evaluate", { expression: "globalThis" });
    this.globalObjectId = response.result.objectId ?? "";
  }

  /** Evaluates `js` as one REPL-mode script and awaits its completion value. */
  async run(js: string): Promise<Evaluation> {
    const objectGroup = `charm4ts-cell-${++this.serial}`;
    let response: EvaluateResponse;
    try {
      response = await this.post<EvaluateResponse>("Runtime.evaluate", {
        expression: js,
        replMode: true,
        awaitPromise: true,
        objectGroup,
      });
    } catch (error) {
      if (String((error as Error).message).includes("Execution was terminated")) return { kind: "terminated" };
      throw error;
    }
    const details = response.exceptionDetails;
    const handles = response.result.objectId !== undefined || details?.exception?.objectId !== undefined;
    try {
      if (details) {
        const error = await this.capture(details.exception ?? response.result);
        return { kind: "error", error, line: details.lineNumber + 1, column: details.columnNumber + 1 };
      }
      if (response.result.type === "undefined") return { kind: "none" };
      return { kind: "value", value: await this.capture(response.result) };
    } finally {
      // Release the inspector's handles, or every value ever shown would stay reachable.
      if (handles) this.session.post("Runtime.releaseObjectGroup", { objectGroup });
    }
  }

  /** Turns a remote object of this very isolate back into the JS value it names. */
  private async capture(remote: RemoteObject): Promise<unknown> {
    // A primitive came back whole: no second round trip through the inspector for `1 + 1`.
    const primitive = primitiveOf(remote);
    if (primitive) return primitive.value;
    const argument = remote.objectId
      ? { objectId: remote.objectId }
      : remote.unserializableValue !== undefined
        ? { unserializableValue: remote.unserializableValue }
        : remote.type === "undefined"
          ? {}
          : { value: remote.value };
    const slot = ++this.serial;
    await this.post("Runtime.callFunctionOn", {
      objectId: this.globalObjectId,
      functionDeclaration: `function (v) { (this[Symbol.for("charm4ts.cells.capture")] ??= new Map()).set(${slot}, v); }`,
      arguments: [argument],
    });
    const slots = (globalThis as unknown as Record<symbol, Map<number, unknown>>)[CAPTURE_KEY]!;
    const value = slots.get(slot);
    slots.delete(slot);
    return value;
  }

  /** Evaluates an expression only if it has no side effects (for completion); never throws. */
  async peek(expression: string): Promise<{ ok: true; value: unknown } | { ok: false }> {
    // Its own group: releasing it must not free a running cell's result before it is captured.
    const objectGroup = `charm4ts-peek-${++this.serial}`;
    try {
      const response = await this.post<EvaluateResponse>("Runtime.evaluate", {
        expression,
        throwOnSideEffect: true,
        // Not REPL mode: that wraps the expression in an async function, and its promise is a side
        // effect while an async context is on (promise hooks run for it: worker/comms.ts), so
        // every peek failed. The cells' top-level bindings are in scope for a plain script too.
        objectGroup,
        timeout: 200,
      });
      if (response.exceptionDetails) return { ok: false };
      return { ok: true, value: await this.capture(response.result) };
    } catch {
      return { ok: false };
    } finally {
      this.session.post("Runtime.releaseObjectGroup", { objectGroup });
    }
  }

  /** Names of the cells' top-level `let`/`const`/`class` bindings (not properties of globalThis). */
  async globalLexicalNames(): Promise<string[]> {
    const response = await this.post<{ names: string[] }>("Runtime.globalLexicalScopeNames", {});
    return response.names;
  }

  /** Disconnects the session. */
  close(): void {
    this.session.disconnect();
  }

  private post<T>(method: string, params: object): Promise<T> {
    return new Promise((resolve, reject) => {
      this.session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T)));
    });
  }
}
