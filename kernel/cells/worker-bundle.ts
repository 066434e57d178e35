/** Finds (or builds) the executor worker's JavaScript: Node 20 cannot start a worker from `.ts`. */
import { existsSync, mkdirSync, renameSync, statSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * A build that lists `kernel/cells/worker/entry.ts` as the entry `cells-worker` ships
 * `cells-worker.js` beside this module. From the sources (tests, `tsx`), the worker is bundled once
 * with esbuild into `node_modules/.cache`, next to the package's node_modules, so `typescript`
 * still resolves; the bundle is rebuilt only when a worker source is newer.
 */
export async function workerScript(): Promise<string> {
  const prebuilt = join(here, "cells-worker.js");
  if (existsSync(prebuilt)) return prebuilt;
  const root = packageRoot(here);
  // From the sources `here` is kernel/cells; bundled into dist/, the sources are found from the package root.
  const sources = [join(here, "worker"), join(root, "kernel", "cells", "worker")].find((dir) => existsSync(dir));
  if (!sources) throw new Error(`cells-worker.js is missing beside ${here} and no worker sources were found`);
  const out = join(root, "node_modules", ".cache", "charm4ts", "cells-worker.mjs");
  // The worker also bundles the runtime and kernel/interactive: the driver runs in it.
  const watched = [sources, dirname(sources), join(dirname(sources), "language"), join(root, "kernel", "interactive"), ...tsDirs(join(root, "runtime"))];
  const newest = Math.max(
    ...watched.filter((dir) => existsSync(dir)).flatMap((dir) =>
      readdirSync(dir).filter((f) => f.endsWith(".ts")).map((f) => statSync(join(dir, f)).mtimeMs),
    ),
  );
  if (existsSync(out) && statSync(out).mtimeMs >= newest) return out;
  const { build } = await import("esbuild");
  mkdirSync(dirname(out), { recursive: true });
  // Build to a private name and rename: two executors starting at once never see half a file.
  const temporary = `${out}.${process.pid}.${Date.now()}.tmp.mjs`;
  await build({
    entryPoints: [join(sources, "entry.ts")],
    outfile: temporary,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    sourcemap: "inline",
    // TypeScript through `require` and a code cache, not an ESM import of a CommonJS file.
    alias: { typescript: join(sources, "typescript-loader.ts") },
    logLevel: "warning",
  });
  renameSync(temporary, out);
  return out;
}

function tsDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return [dir, ...readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => tsDirs(join(dir, e.name)))];
}

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "node_modules"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package root with node_modules above ${from}`);
  }
}
