/**
 * Turns a TypeScript (or JavaScript) program into one ESM file every PE thread can import with
 * no loader hooks: local files are bundled, packages stay external but are pinned to the files
 * they resolve to from the program's own folder, and charm4ts itself always resolves to the
 * one built runtime (dist/index.js), so a program and the PEs share one runtime instance.
 */
import type { Plugin, PluginBuild } from "esbuild";
import { builtinModules } from "node:module";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync, type Stats } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve as resolvePath, sep } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";
import { packageRoot, distFile } from "../startup/package-root.ts";

const compiled = new Map<string, string>();

/** Compiles `entry` (path or file URL) once per content; returns the file URL to import. */
export async function compileProgram(entry: string): Promise<string> {
  const file = entry.startsWith("file:") ? fileURLToPath(entry) : resolvePath(entry);
  if (/\.(m?js|cjs)$/.test(file)) return pathToFileURL(file).href; // already runnable
  const stamp = `${file}:${programStat(file).mtimeMs}`;
  const known = compiled.get(stamp);
  if (known) return known;
  const hash = createHash("sha256").update(file).update(readFileSync(file)).digest("hex").slice(0, 16);
  const outDir = privateDir(join(tmpdir(), `charm4ts-${process.getuid?.() ?? "user"}`));
  const outfile = join(outDir, `${hash}.mjs`);
  const manifest = `${outfile}.inputs.json`;
  // A program started again unchanged skips esbuild entirely (its service costs ~0.1 s to start).
  if (!upToDate(outfile, manifest)) {
    const { build } = await import("esbuild");
    const result = await build({
      entryPoints: [file],
      outfile,
      write: false, // written below under a private name and renamed: another run may import it now
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      keepNames: true, // chare classes are found by name on every PE
      sourcemap: "inline",
      logLevel: "silent",
      metafile: true,
      plugins: [pinImports()],
    });
    const inputs = Object.keys(result.metafile!.inputs).map((f) => resolvePath(f));
    writeAtomically(outfile, result.outputFiles![0]!.contents);
    writeAtomically(manifest, JSON.stringify(inputs.map((f) => [f, statSync(f).mtimeMs])));
  }
  const url = pathToFileURL(outfile).href;
  compiled.set(stamp, url);
  return url;
}

/** The program file's stat, or an error naming it (not stat's raw ENOENT or a directory's EISDIR later). */
function programStat(file: string): Stats {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`no such program: ${file}`);
    throw err;
  }
  if (st.isDirectory()) throw new Error(`${file} is a directory; give a program file (.ts or .js)`);
  return st;
}

/**
 * The folder of compiled programs, made for this user alone: in a shared /tmp another user could
 * make it first, and whatever is in it is imported and run. One that isn't ours, or that others
 * may write to, is refused.
 */
function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} is not a folder of this user's alone (a symbolic link, another user's, or writable by others): remove it, or set TMPDIR to a private folder`);
  }
  return dir;
}

/** Several runs of one program compile it at once (a class, a launcher's ranks): none may import half a file. */
function writeAtomically(path: string, data: string | Uint8Array): void {
  const partial = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(partial, data, { mode: 0o600 });
  renameSync(partial, path);
}

function upToDate(outfile: string, manifest: string): boolean {
  if (!existsSync(outfile) || !existsSync(manifest)) return false;
  try {
    const inputs = JSON.parse(readFileSync(manifest, "utf8")) as Array<[string, number]>;
    return inputs.every(([f, mtime]) => existsSync(f) && statSync(f).mtimeMs === mtime);
  } catch {
    return false;
  }
}

function pinImports(): Plugin {
  const root = packageRoot();
  const runtimeDir = join(root, "runtime") + sep;
  const runtimeEntry = distFile("index.js");
  return {
    name: "charm4ts-pin-imports",
    setup(b: PluginBuild) {
      b.onResolve({ filter: /^charm4ts$/ }, () => ({ path: runtimeEntry, external: true }));
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === "entry-point" || args.pluginData === "pinned") return undefined;
        const bare = !args.path.startsWith(".") && !isAbsolute(args.path);
        if (bare && (args.path.startsWith("node:") || isBuiltin(args.path))) return { path: args.path, external: true };
        const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "pinned" });
        if (found.errors.length > 0) return { errors: found.errors };
        // The runtime's own sources map to the built runtime: one instance per thread.
        if (found.path.startsWith(runtimeDir)) {
          if (dirname(found.path) + sep === runtimeDir && /index\.ts$/.test(found.path)) return { path: runtimeEntry, external: true };
          return { errors: [{ text: `import charm4ts through its public entry ("charm4ts" or runtime/index.ts), not ${found.path}` }] };
        }
        if (bare) return { path: found.path, external: true }; // a package: load it where it lives
        return undefined; // a local file: bundle it
      });
    },
  };
}

const builtins = new Set(builtinModules);
function isBuiltin(name: string): boolean {
  return builtins.has(name.split("/")[0]!);
}
