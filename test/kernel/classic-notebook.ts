// Debian's classic Notebook (6.4) for the browser tests: started on a free loopback port with a
// token, serving a folder of notebooks, with the kernelspec of a temporary Jupyter prefix.
import { spawn, type ChildProcess } from "node:child_process";
import type { Browser, Page } from "playwright-core";
import { randomUUID } from "node:crypto";
import { freePort } from "../../kernel/protocol/connection.ts";
import { PYTHON, type JupyterEnv } from "./jupyter-env.ts";

/** A running classic Notebook server. */
export interface NotebookServer {
  url: string;
  token: string;
  process: ChildProcess;
  log(): string;
}

/** Starts `python3 -m notebook` on a free loopback port with a token; resolves once it listens. */
export async function startNotebook(je: JupyterEnv, dir: string, env: NodeJS.ProcessEnv = {}): Promise<NotebookServer> {
  const port = await freePort();
  const token = randomUUID();
  const child = spawn(
    PYTHON,
    ["-m", "notebook", "--no-browser", `--port=${port}`, "--ip=127.0.0.1", "--NotebookApp.port_retries=0",
      `--NotebookApp.token=${token}`, `--NotebookApp.notebook_dir=${dir}`,
      // CI containers run as root, which the Notebook refuses without this flag.
      ...(process.getuid?.() === 0 ? ["--allow-root"] : [])],
    { env: { ...je.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const onData = (s: Buffer) => {
      log += s.toString();
      if (log.includes(`http://127.0.0.1:${port}/`)) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => reject(new Error(`the Notebook server exited with ${code}:\n${log}`)));
  });
  return { url: `http://127.0.0.1:${port}/`, token, process: child, log: () => log };
}

/** Shuts the server down (and its kernels) through its API, SIGTERM if that fails. */
export async function stopNotebook(server: NotebookServer): Promise<void> {
  if (server.process.exitCode !== null) return;
  const exited = new Promise((r) => server.process.once("exit", r));
  // The API shutdown stops the kernels too; SIGTERM is the fallback.
  const res = await fetch(`${server.url}api/shutdown`, { method: "POST", headers: { Authorization: `token ${server.token}` } }).catch(() => undefined);
  if (!res?.ok) server.process.kill("SIGTERM");
  await exited;
}


/** The error for a browser step that failed: its message, a screenshot at `shot`, the server's log. */
export async function pageFailure(page: Page, shot: string, server: NotebookServer, error: unknown): Promise<Error> {
  // What the user would have seen, and what the server said, beside the timeout.
  await page.screenshot({ path: shot }).catch(() => {});
  return new Error(`${(error as Error).message}\nscreenshot: ${shot}\nNotebook server log:\n${server.log().slice(-4000)}`);
}

/** Closes the browser, then the server and its kernels (either may be absent: a setup that failed early). */
export async function closeBrowserAndServer(browser: Browser | undefined, server: NotebookServer | undefined): Promise<void> {
  await browser?.close();
  if (server) await stopNotebook(server);
}

// Functions passed to the page run there; this project compiles without the DOM lib, so they
// reach the page's globals (document, the classic Notebook's Jupyter) through `globalThis as any`.

/** Waits until the page's kernel is connected and idle (the indicator the user sees). */
export async function kernelReady(page: Page, timeout = 30_000): Promise<void> {
  await page.waitForFunction(() => {
    const { Jupyter, document } = globalThis as any;
    return Jupyter?.notebook?.kernel?.is_connected() && document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
  }, undefined, { timeout });
}

/** Waits until every cell has an execution count and the kernel is idle again (outputs come before idle on iopub). */
export async function allCellsRan(page: Page, timeout: number): Promise<void> {
  await page.waitForFunction(() => {
    const { Jupyter, document } = globalThis as any;
    return Jupyter.notebook.get_cells().every((c: any) => c.cell_type !== "code" || typeof c.input_prompt_number === "number") &&
      document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
  }, undefined, { timeout, polling: 100 });
}
