/**
 * The one script of the cells' machinery, two roles: the executor (cells), a worker thread of the
 * kernel, or the language process (completion and type checks), started as `<script> language <cwd>`.
 */
import { isMainThread } from "node:worker_threads";

// One bundle for both roles keeps a single build entry and one cached file. No top-level await
// here or in what this loads: V8 (in Node 20) aborts the whole process when a thread is
// terminated (an interrupt's terminateExecution, a close, out of memory) while an async module
// starts. A failed load is an unhandled rejection, which ends the worker with an "error" event.
if (isMainThread && process.argv[2] === "language") {
  const cwd = process.argv[3] ?? process.cwd();
  void import("../language/language-process.ts").then(({ serveLanguage }) => serveLanguage(cwd));
} else {
  // The cell thread is the runtime's driver: its PE threads boot while this one loads TypeScript.
  void import("../../interactive/boot.ts")
    .then(({ bootPes }) => { void bootPes(); })
    .then(() => import("./cell-worker.ts"));
}
