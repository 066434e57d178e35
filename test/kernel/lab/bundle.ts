// Bundles the JupyterLab test frontend (frontend/main.ts and JupyterLab's packages from
// node_modules) with esbuild into node_modules/.cache, keyed by the lockfile and the frontend's
// sources (and this builder): built once per dependency change (a few seconds), reused by later runs and never committed.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { ROOT } from "../jupyter-env.ts";

const FRONTEND = join(ROOT, "test/kernel/lab/frontend");
const CACHE = join(ROOT, "node_modules/.cache/charm4ts-lab");

/** The page that loads the bundle; jupyter_server serves it as a static file. */
const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>charm4ts in JupyterLab</title><link rel="stylesheet" href="main.css">
<style>html, body { margin: 0; height: 100%; overflow: hidden; } #main { position: absolute; inset: 0; }</style></head>
<body class="jp-ThemedContainer" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light"><script src="main.js"></script></body></html>
`;

/** What the bundle depends on: the lockfile (JupyterLab's versions), this file and the frontend's own files. */
function key(): string {
  const hash = createHash("sha256").update(readFileSync(join(ROOT, "package-lock.json"))).update(readFileSync(import.meta.filename));
  for (const name of readdirSync(FRONTEND).sort()) hash.update(name).update(readFileSync(join(FRONTEND, name)));
  return hash.digest("hex").slice(0, 16);
}

/** Where the page is served from: /static/charm4ts-lab/ when `root` is a static path of jupyter_server. */
export const LAB_PAGE = "charm4ts-lab";

/** A directory holding charm4ts-lab/{index.html,main.js,main.css}, built now unless already cached. */
export async function labBundle(): Promise<string> {
  const dir = join(CACHE, key());
  if (existsSync(join(dir, LAB_PAGE, "index.html"))) return dir;
  for (const pkg of ["@jupyterlab/notebook", "@jupyterlab/docmanager", "@jupyterlab/theme-light-extension"]) {
    if (!existsSync(join(ROOT, "node_modules", pkg))) throw new Error(`${pkg} is not installed: run \`npm install\` (JupyterLab's packages are devDependencies)`);
  }
  // Built beside its final place and renamed into it, so a run cut short leaves no half bundle.
  const partial = `${dir}.${process.pid}.partial`;
  const out = join(partial, LAB_PAGE);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { main: join(FRONTEND, "main.ts") },
    outdir: out,
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "chrome120",
    minify: true,
    sourcemap: false,
    define: { "process.env.NODE_ENV": '"production"', global: "globalThis" },
    // Fonts and icons referenced from JupyterLab's CSS ride inside main.css.
    loader: { ".woff": "dataurl", ".woff2": "dataurl", ".ttf": "dataurl", ".eot": "dataurl", ".svg": "dataurl", ".png": "dataurl", ".gif": "dataurl" },
    tsconfig: join(FRONTEND, "tsconfig.json"),
    logLevel: "error",
  }).catch((error: unknown) => {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  });
  writeFileSync(join(out, "index.html"), INDEX_HTML);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  // Older bundles (other lockfiles) go, so the cache holds one.
  for (const name of readdirSync(CACHE)) if (join(CACHE, name) !== dir && !name.endsWith(".partial")) rmSync(join(CACHE, name), { recursive: true, force: true });
  return dir;
}
