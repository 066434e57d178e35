// What a request handler may touch. Handlers never see sockets: they return their reply's
// content and act on the world only through this scope, so tests can drive them with fakes.
import type { CellExecutor, InputRequest } from "../cells/executor.ts";
import type { IopubContent, IopubExtra, IopubType } from "../protocol/messages.ts";
import type { CommTable } from "./comms.ts";
import type { History } from "./history.ts";

/** The effects available while one request is handled; each message is a child of the request. */
export interface RequestScope {
  /** Publishes on iopub; the server sends these in order, before the request's idle. */
  publish<T extends IopubType>(msgType: T, content: IopubContent[T], extra?: IopubExtra): void;
  /** Asks the frontend for a line on stdin; rejects when the request didn't allow stdin. */
  input(request: InputRequest): Promise<string>;
  /** Writes a line to the kernel's log (stderr): what was ignored, and why. */
  log(message: string): void;
}

/** The kernel's state shared by all handlers. */
export interface KernelState {
  executor: Pick<CellExecutor, "execute" | "complete" | "inspect" | "isComplete" | "interrupt" | "deliverComm">;
  history: History;
  /** The count of the last execute stored in history (0 before the first). */
  executionCount: number;
  /** The comms open now, either side's (comm_info). */
  comms: CommTable;
}
