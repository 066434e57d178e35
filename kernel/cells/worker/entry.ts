/** The one worker script: the executor (cells) or the language worker (completion), by `workerData.role`. */
import { workerData } from "node:worker_threads";

// One bundle for both roles keeps a single build entry and one cached file.
if ((workerData as { role?: string }).role === "language") await import("../language/language-worker.ts");
else {
  // The cell thread is the runtime's driver: its PE threads boot while this one loads TypeScript.
  (await import("../../interactive/boot.ts")).bootPes();
  await import("./cell-worker.ts");
}
