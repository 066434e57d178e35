/** The language worker: TypeScript's language service off the kernel's and the cells' threads. */
import { parentPort, workerData } from "node:worker_threads";
import { CellLanguageHost } from "./host.ts";
import type { FromLanguage, ToLanguage } from "./protocol.ts";
import { lowerThreadPriority } from "./lower-priority.ts";

lowerThreadPriority();

const port = parentPort!;
const host = new CellLanguageHost((workerData as { cwd: string }).cwd);
const send = (message: FromLanguage): void => port.postMessage(message);

port.on("message", (message: ToLanguage) => {
  switch (message.type) {
    case "complete": {
      send({ type: "completions", id: message.id, ...host.complete(message.history, message.code, message.cursor) });
      return;
    }
    case "inspect":
      send({ type: "info", id: message.id, text: host.inspect(message.history, message.code, message.cursor, message.detailLevel) });
      return;
    case "check":
      send({ type: "diagnostics", id: message.id, lines: host.check(message.history, message.code, message.cellName) });
      return;
    default:
      message satisfies never;
  }
});
