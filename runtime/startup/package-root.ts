/** Finds charm4ts's own files (dist/, the worker entry) whether running from source or from dist/. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** The directory holding charm4ts's package.json. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "charm4ts") return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error("charm4ts: can't find its own package.json above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** A file of the built package (dist/…), with a clear error when the build is missing. */
export function distFile(name: string): string {
  const file = join(packageRoot(), "dist", name);
  if (!existsSync(file)) throw new Error(`charm4ts: ${file} is missing; run \`npm run build\` (npm install does it)`);
  return file;
}
