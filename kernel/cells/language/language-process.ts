/**
 * The language process: TypeScript's language service in a process of its own, off the kernel's
 * and the cells' threads and at the lowest CPU priority (a worker thread would share V8's helper
 * threads, and so their priority, with the PEs). Started by `LanguageService` with an IPC channel.
 */
import { CellLanguageHost } from "./host.ts";
import type { FromLanguage, ToLanguage } from "./protocol.ts";
import { lowerProcessPriority } from "./lower-priority.ts";

/** Serves language requests over this process's IPC channel until the kernel goes. */
export function serveLanguage(cwd: string): void {
  lowerProcessPriority();
  // jupyter_client interrupts by signalling the kernel's whole process group: that is for cells.
  process.on("SIGINT", () => {});
  // The kernel closed the service, or ended: nothing is left to answer.
  process.on("disconnect", () => process.exit(0));
  // A reply written as the kernel dies fails with EPIPE before "disconnect" arrives: same ending.
  process.on("error", () => process.exit(0));
  const host = new CellLanguageHost(cwd);
  const send = (message: FromLanguage): void => {
    if (process.connected) process.send!(message, undefined, undefined, (error) => { if (error) process.exit(0); });
  };
  process.on("message", (message: ToLanguage) => {
    switch (message.type) {
      case "complete":
        send({ type: "completions", id: message.id, ...host.complete(message.history, message.code, message.cursor) });
        return;
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
}
