import { build } from "esbuild";
import { describe, expect, it } from "vitest";

// Node 20's V8 aborts the whole process ("Check failed: (location_) != nullptr" in
// SourceTextModule::ExecuteAsyncModule) when a thread is terminated while an async module starts.
// Threads are terminated on purpose (restartPe, interrupts, close, out of memory), so the modules
// a worker thread starts with must not await at the top level.
const WORKER_ENTRIES = ["runtime/pe/worker-main.ts", "kernel/cells/worker/entry.ts"];

describe("worker-thread entry modules", () => {
  it.each(WORKER_ENTRIES)("%s and everything it bundles evaluate without a top-level await", async (entry) => {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      packages: "external",
      supported: { "top-level-await": false },
      alias: { typescript: "./kernel/cells/worker/typescript-loader.ts" },
      logLevel: "silent",
    }).catch((error: { errors?: Array<{ text: string; location?: { file: string; line: number } }> }) => error);
    const errors = "errors" in result ? (result.errors ?? []).map((e) => `${e.location?.file}:${e.location?.line}: ${e.text}`) : [];
    expect(errors).toEqual([]);
  });
});
