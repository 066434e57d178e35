// Starts a kernel process the way jupyter_client does: a fresh connection file (random loopback
// ports, random key, mode 0600) and `node dist/kernel.js -f <file>` in its own process group.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { newConnection, writeConnectionFile, type ConnectionInfo } from "../protocol/connection.ts";
import { KernelClient, withTimeout } from "./client.ts";

/** dist/kernel.js, found next to this bundle (dist/) or from the source tree (kernel/runner/). */
export function kernelScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.endsWith("runner") ? resolve(here, "../../dist/kernel.js") : resolve(here, "kernel.js");
}

/** A kernel process with a connected client. */
export interface LaunchedKernel {
  process: ChildProcess;
  connection: ConnectionInfo;
  connectionFile: string;
  client: KernelClient;
  /** The kernel's stderr so far (its log). */
  stderr(): string;
  /** Resolves once the kernel's stderr matches `re` (events, no polling). */
  waitForStderr(re: RegExp): Promise<string>;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Asks for shutdown, waits for the exit, removes the connection file. */
  shutdown(): Promise<void>;
}

/** Spawns a kernel, connects and waits until shell and iopub both work. */
export async function launchKernel(options: { cwd?: string; key?: string; env?: NodeJS.ProcessEnv } = {}): Promise<LaunchedKernel> {
  const dir = mkdtempSync(join(tmpdir(), "charm4ts-kernel-"));
  const connectionFile = join(dir, "kernel.json");
  const connection = await newConnection();
  if (options.key !== undefined) connection.key = options.key;
  writeConnectionFile(connectionFile, connection);
  // detached: its own process group, so a SIGINT to the group reaches the kernel as Jupyter's does.
  const child = spawn(process.execPath, [kernelScript(), "-f", connectionFile], {
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? process.env,
    stdio: ["ignore", "inherit", "pipe"],
    detached: true,
  });
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stderr!.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
    for (const w of waiters) w();
  });
  const waitForStderr = (re: RegExp) =>
    new Promise<string>((resolve) => {
      const check = () => {
        if (!re.test(stderr)) return;
        waiters.delete(check);
        resolve(stderr);
      };
      waiters.add(check);
      check();
    });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once("exit", (code, signal) => r({ code, signal })),
  );
  const client = KernelClient.connect(connection);
  const cleanup = () => {
    client.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      client.waitReady(),
      exited.then(({ code }) => {
        throw new Error(`kernel exited with code ${code} before it answered:\n${stderr}`);
      }),
    ]);
  } catch (e) {
    killGroup(child);
    cleanup();
    throw e;
  }
  return {
    process: child,
    connection,
    connectionFile,
    client,
    stderr: () => stderr,
    waitForStderr,
    exited,
    async shutdown() {
      if (child.exitCode === null && child.signalCode === null) {
        // A kernel that doesn't answer and exit in time is killed, like jupyter_client does.
        const asked = Promise.race([client.request("control", "shutdown_request", { restart: false }), exited]);
        await withTimeout(asked.then(() => exited), 5000, "kernel shutdown").catch(() => killGroup(child));
        await exited;
      }
      cleanup();
    },
  };
}

/** Kills a kernel's whole process group, as jupyter_client does on a failed shutdown. */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    // Already gone.
  }
}
