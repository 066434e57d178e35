// `npm run install-kernel -- --user | --sys-prefix | --system | --prefix P [--name N]`: writes
// the charm4ts kernelspec where Jupyter looks for kernels, without needing Python.
// Spec: https://jupyter-client.readthedocs.io/en/stable/kernels.html#kernel-specs
import { chmodSync, existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** Where to install: Jupyter's own choices (`system`: for every user of the machine, as `jupyter kernelspec install` without --user). */
export type Target = { kind: "user" } | { kind: "sys-prefix" } | { kind: "system" } | { kind: "prefix"; prefix: string };

/** The kernel.json for a kernel run by this node binary from this kernel script. */
export function kernelJson(nodePath: string, kernelScript: string): Record<string, unknown> {
  return {
    argv: [nodePath, kernelScript, "-f", "{connection_file}"],
    display_name: "TypeScript (charm4ts)",
    language: "typescript",
    // jupyter_client then interrupts with SIGINT to the process group; the kernel survives it.
    interrupt_mode: "signal",
    metadata: { debugger: false },
  };
}

/** Jupyter's user data dir (jupyter_core.paths.jupyter_data_dir). */
export function userDataDir(env = process.env): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  if (process.platform === "darwin") return join(homedir(), "Library", "Jupyter");
  if (process.platform === "win32") return join(env.APPDATA ?? homedir(), "jupyter");
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "jupyter");
}

/** The prefix of the Python environment that runs `jupyter` (what --sys-prefix means). */
export function sysPrefix(env = process.env): string {
  if (env.CONDA_PREFIX) return env.CONDA_PREFIX;
  if (env.VIRTUAL_ENV) return env.VIRTUAL_ENV;
  // Without Python, take the prefix of the `jupyter` on PATH: <prefix>/bin/jupyter.
  for (const dir of (env.PATH ?? "").split(process.platform === "win32" ? ";" : ":")) {
    const exe = join(dir, "jupyter");
    if (dir && existsSync(exe)) return dirname(dirname(realpathSync(exe)));
  }
  throw new Error("--sys-prefix: no CONDA_PREFIX, VIRTUAL_ENV or `jupyter` on PATH; use --user or --prefix P");
}

/** The kernelspec directory for a target. */
export function kernelsDir(target: Target, env = process.env): string {
  switch (target.kind) {
    case "user":
      return join(userDataDir(env), "kernels");
    case "sys-prefix":
      return join(sysPrefix(env), "share", "jupyter", "kernels");
    case "system":
      return join(systemDataDir(env), "kernels");
    case "prefix":
      return join(resolve(target.prefix), "share", "jupyter", "kernels");
  }
}

/** The first of Jupyter's system-wide data dirs (jupyter_core.paths.SYSTEM_JUPYTER_PATH): every user's Jupyter looks there. */
export function systemDataDir(env = process.env): string {
  if (process.platform === "win32") return join(env.PROGRAMDATA ?? "C:\\ProgramData", "jupyter");
  return "/usr/local/share/jupyter";
}

/**
 * The first part of `path` another user could not get through (a folder without o+x, the file
 * without o+r), or undefined: a kernelspec for a hub's students runs this checkout as each of them.
 */
export function closedToOthers(path: string): string | undefined {
  const file = resolve(path);
  if ((statSync(file).mode & 0o004) === 0) return file;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Writes `<kernels dir>/<name>/kernel.json`; returns the kernelspec directory. */
export function installKernelspec(target: Target, options: { name?: string; kernelScript: string }): string {
  if (!existsSync(options.kernelScript)) {
    throw new Error(`${options.kernelScript} does not exist; run \`npm run build\` first`);
  }
  const dir = join(kernelsDir(target), options.name ?? "charm4ts");
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "kernel.json");
  writeFileSync(json, JSON.stringify(kernelJson(process.execPath, options.kernelScript), null, 2) + "\n");
  // Readable by everyone whatever the umask (it holds no secret): Jupyter runs as each user of a hub.
  chmodSync(dir, 0o755);
  chmodSync(json, 0o644);
  return dir;
}

function parseTarget(argv: string[]): { target: Target; name?: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      user: { type: "boolean" },
      "sys-prefix": { type: "boolean" },
      system: { type: "boolean" },
      prefix: { type: "string" },
      name: { type: "string" },
    },
  });
  const chosen = [values.user, values["sys-prefix"], values.system, values.prefix !== undefined].filter(Boolean).length;
  if (chosen > 1) throw new Error("choose one of --user, --sys-prefix, --system, --prefix P");
  const target: Target = values.prefix !== undefined
    ? { kind: "prefix", prefix: values.prefix }
    : values["sys-prefix"] ? { kind: "sys-prefix" } : values.system ? { kind: "system" } : { kind: "user" };
  return { target, name: values.name };
}

function main(): void {
  const { target, name } = parseTarget(process.argv.slice(2));
  const script = resolve(dirname(fileURLToPath(import.meta.url)), "kernel.js");
  const dir = installKernelspec(target, { name, kernelScript: script });
  process.stdout.write(`Installed kernelspec ${name ?? "charm4ts"} in ${dir}\n`);
  const closed = target.kind === "user" ? undefined : closedToOthers(script) ?? closedToOthers(process.execPath);
  if (closed) {
    // Installed for others, run as them: node dist/kernel.js must be reachable by every user.
    process.stderr.write(`Warning: other users can't reach ${closed}, so the kernel won't start for them; put the checkout where everyone can read it (e.g. /opt/charm4ts, chmod -R a+rX) and install again.\n`);
  }
  if (target.kind === "prefix") {
    // Jupyter searches its own prefixes; a custom one must be on JUPYTER_PATH.
    process.stdout.write(`Unless ${target.prefix} is Jupyter's prefix, add ${resolve(target.prefix, "share", "jupyter")} to JUPYTER_PATH.\n`);
  }
}

// Run only as the installer entry point, not when a test imports the helpers.
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`install-kernel: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
