// Builds dist/ from the TypeScript sources with esbuild: one ESM graph with shared chunks, so a
// worker thread, a user's program and the launcher all load the same runtime module instance.
import { build } from "esbuild";
import { existsSync } from "node:fs";

const entries = {
  index: "runtime/index.ts",
  "pe-worker": "runtime/pe/worker-main.ts",
  "pe-process": "runtime/pe/process-main.ts",
  charmrun: "runtime/launcher/charmrun.ts",
  bench: "bench/index.ts",
  kernel: "kernel/main.ts",
  "cells-worker": "kernel/cells/worker/entry.ts",
  "run-notebook": "kernel/runner/main.ts",
  "install-kernel": "install/install-kernel.ts",
};
const entryPoints = Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)));

await build({
  entryPoints,
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  keepNames: true, // chare classes are found by name on every PE
  target: "node20",
  packages: "external",
  // TypeScript through `require` and a V8 code cache (kernel/cells/worker/typescript-loader.ts):
  // importing the 9 MB CommonJS file as ESM costs over a second at every cell-worker start.
  alias: { typescript: "./kernel/cells/worker/typescript-loader.ts" },
  sourcemap: "linked",
  logLevel: "warning",
});
