/** Loads TypeScript for the worker bundle fast and late: `require` plus a V8 code cache kept on disk, on first use. */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";
import vm from "node:vm";

// The bundle maps the import "typescript" here (esbuild `alias`). Importing the 9 MB CommonJS
// file as ESM costs ~1.4 s in Node 20 (its named exports are found by lexing the whole file),
// `require` ~0.6 s, and compiling from a code cache cuts most of the rest.
const require = createRequire(import.meta.url);
const file = require.resolve("typescript");
const version = (require("typescript/package.json") as { version: string }).version;
const cacheFile = join(dirname(file), "..", "..", ".cache", "charm4ts", `typescript-${version}-${process.version}.v8cache`);

function load(): typeof import("typescript") {
  const source = readFileSync(file, "utf8");
  const cachedData = existsSync(cacheFile) ? readFileSync(cacheFile) : undefined;
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  const module = { exports: {} as typeof import("typescript") };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  if (!cachedData || script.cachedDataRejected) {
    try {
      // Written after running, so the cache holds the functions start-up compiled too.
      mkdirSync(dirname(cacheFile), { recursive: true });
      const temporary = `${cacheFile}.${process.pid}.${Date.now()}.tmp`;
      writeFileSync(temporary, script.createCachedData());
      renameSync(temporary, cacheFile);
    } catch {
      // A read-only install just loads without the cache.
    }
  }
  return module.exports;
}

let loaded: typeof import("typescript") | undefined;

/** Loads TypeScript now (a few hundred ms), unless it is loaded already. */
export function loadTypeScript(): typeof import("typescript") {
  return (loaded ??= load());
}

/** Whether TypeScript has been loaded in this thread. */
export function typeScriptLoaded(): boolean {
  return loaded !== undefined;
}

// Loaded on first use, not at import: plain cells (plain-cell.ts) run without it, so the kernel's
// first reply doesn't wait for it. Property reads go through to the module once it is there.
const ts = new Proxy({} as typeof import("typescript"), {
  get: (_, key) => (loadTypeScript() as unknown as Record<string | symbol, unknown>)[key],
  has: (_, key) => key in loadTypeScript(),
});
export default ts;
