// Test fixtures for driving the kernel through Debian's Jupyter: a temporary Jupyter prefix with
// the charm4ts kernelspec installed by our own installer, and a Jupyter server on a free port.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freePort } from "../../kernel/protocol/connection.ts";

/** Debian's Python, where jupyter_server, nbconvert and jupyter_kernel_test live. */
export const PYTHON = "/usr/bin/python3";
/** The repository root: found upwards, as this module runs from test/kernel/ or bundled into dist/ (the bench). */
export const ROOT = packageRoot(import.meta.dirname);

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "charm4ts") return dir;
    if (dirname(dir) === dir) throw new Error(`no charm4ts package.json above ${from}`);
  }
}

/** A temporary Jupyter prefix with the kernelspec installed, and the environment that finds it. */
export interface JupyterEnv {
  dir: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** Installs the kernelspec with `dist/install-kernel.js --prefix` into a fresh temp prefix. */
export function jupyterEnv(): JupyterEnv {
  const installer = join(ROOT, "dist/install-kernel.js");
  if (!existsSync(installer) || !existsSync(join(ROOT, "dist/kernel.js"))) {
    throw new Error("dist/ is not built: run `npm run build`");
  }
  const dir = mkdtempSync(join(tmpdir(), "charm4ts-jupyter-"));
  const r = spawnSync(process.execPath, [installer, "--prefix", dir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`install-kernel failed: ${r.stderr}`);
  for (const d of ["data", "runtime", "config", "work"]) mkdirSync(join(dir, d));
  const env = {
    ...process.env,
    JUPYTER_PATH: join(dir, "share/jupyter"),
    JUPYTER_DATA_DIR: join(dir, "data"),
    JUPYTER_RUNTIME_DIR: join(dir, "runtime"),
    JUPYTER_CONFIG_DIR: join(dir, "config"),
    // Keep the user's site config and IPython out of the test.
    JUPYTER_PLATFORM_DIRS: "1",
    PYTHONNOUSERSITE: "1",
  };
  return { dir, env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a notebook of TypeScript code cells for the charm4ts kernel to `path`. */
export function writeNotebook(path: string, sources: string[]): string {
  const cells = sources.map((source, i) => ({ id: `c${i}`, cell_type: "code", metadata: {}, source, outputs: [], execution_count: null }));
  const metadata = { kernelspec: { name: "charm4ts", display_name: "TypeScript (charm4ts)", language: "typescript" } };
  writeFileSync(path, JSON.stringify({ cells, metadata, nbformat: 4, nbformat_minor: 5 }));
  return path;
}

/** How one `jupyter nbconvert --execute` went. */
export interface NbconvertRun {
  status: number | null;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/**
 * Runs `python3 -m nbconvert --to notebook --execute` on `notebook` with the charm4ts kernelspec,
 * writing the executed copy to `output`; resolves when nbconvert exits (never rejects).
 */
export function nbconvertExecute(je: JupyterEnv, notebook: string, output: string, options: { env?: NodeJS.ProcessEnv; args?: string[]; cwd?: string } = {}): Promise<NbconvertRun> {
  const started = performance.now();
  const child = spawn(
    PYTHON,
    ["-m", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=charm4ts",
      "--output-dir", dirname(output), "--output", output.slice(dirname(output).length + 1), ...(options.args ?? []), notebook],
    { env: { ...je.env, ...options.env }, cwd: options.cwd ?? dirname(notebook), stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  return new Promise((resolve) => {
    child.once("error", (error) => resolve({ status: null, stderr: `${stderr}${String(error)}`, ms: performance.now() - started }));
    child.once("close", (status) => resolve({ status, stderr, ms: performance.now() - started }));
  });
}

/** A running Jupyter server. */
export interface JupyterServer {
  baseUrl: string;
  token: string;
  process: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** Starts `python3 -m jupyter_server` on a free loopback port (with `args` added); resolves once it listens. */
export async function startJupyterServer(je: JupyterEnv, args: string[] = []): Promise<JupyterServer> {
  const port = await freePort();
  const token = randomUUID();
  const child = spawn(
    PYTHON,
    ["-m", "jupyter_server", "--no-browser", `--port=${port}`, `--ServerApp.token=${token}`, "--ServerApp.ip=127.0.0.1",
      `--ServerApp.root_dir=${join(je.dir, "work")}`, "--ServerApp.port_retries=0",
      // CI containers run as root, which jupyter_server refuses without this flag.
      ...(process.getuid?.() === 0 ? ["--allow-root"] : []), ...args],
    { env: je.env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const baseUrl = `http://127.0.0.1:${port}/`;
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const onData = (s: Buffer) => {
      log += s.toString();
      // jupyter_server prints its URL once it is listening.
      if (log.includes(`127.0.0.1:${port}/`) && /is running at|http:\/\/127\.0\.0\.1/.test(log)) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => reject(new Error(`jupyter_server exited with ${code}:\n${log}`)));
  });
  return {
    baseUrl,
    token,
    process: child,
    log: () => log,
    async stop() {
      // The API shutdown stops kernels too; SIGTERM is the fallback.
      await fetch(`${baseUrl}api/shutdown`, { method: "POST", headers: { Authorization: `token ${token}` } }).catch(() => {
        child.kill("SIGTERM");
      });
      await exited;
    },
  };
}
