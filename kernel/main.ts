// The kernel process: `node dist/kernel.js -f <connection file>`, as the kernelspec's argv says.
// Only what starts the PE threads and the cell executor is loaded before they start: they get
// going (the cell thread is the runtime's driver and adopts the PEs) while the sockets and the
// protocol code load.
import { endpoint, readConnectionFile, type ConnectionInfo } from "./protocol/connection.ts";
import { startHeartbeat, type Heartbeat } from "./server/heartbeat.ts";
import type { Kernel } from "./server/kernel.ts";
import { log } from "./server/log.ts";
import { maxMessageBytes } from "./server/message-limit.ts";
import { startCellExecutor } from "./server/start-executor.ts";
import { MOST_PES_STARTED_AHEAD, prestartPeThreads, type Prestart } from "../runtime/embedding.ts";
import { kernelPeCount } from "./interactive/pe-count.ts";
import { PortInUseError } from "./server/bind-retry.ts";

/** The connection file path from `-f <path>` or `--f=<path>` (jupyter_client passes `-f`). */
export function connectionFileArg(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-f" || a === "--f" || a === "--connection-file") return argv[i + 1];
    const m = /^--?(?:f|connection-file)=(.+)$/.exec(a);
    if (m) return m[1];
  }
  return undefined;
}

// How long an orderly stop may take (it stops the PEs first) before the process exits anyway.
const STOP_LIMIT_MS = 5000;
// How often the kernel checks that its launcher is still alive.
const PARENT_POLL_MS = 1000;

let heartbeat: Heartbeat | undefined;

/**
 * Exits once the heartbeat thread has ended (at most its close grace): a process that exits while
 * that thread's ZeroMQ socket waits to receive aborts instead (zeromq.js#411).
 */
function exit(code?: number): void {
  void (heartbeat?.close() ?? Promise.resolve()).finally(() => process.exit(code));
}

async function main(): Promise<void> {
  const file = connectionFileArg(process.argv.slice(2));
  if (!file) {
    process.stderr.write("usage: node dist/kernel.js -f <connection-file.json>\n");
    process.exit(2);
  }
  // jupyter_client interrupts by sending SIGINT to the whole process group (interrupt_mode "signal"): the kernel
  // must survive it, even during start-up, and stop the running cell instead.
  let kernel: Kernel | undefined;
  process.on("SIGINT", () => kernel?.interrupt());
  process.on("SIGTERM", () => {
    if (!kernel) return exit(0);
    void kernel.stop(0);
    setTimeout(() => exit(0), STOP_LIMIT_MS).unref(); // even if a stuck cell holds up the stop
  });
  // An error from user code that escaped the executor must not take the kernel down.
  process.on("uncaughtException", (e) => log(`uncaught: ${e.stack ?? e.message}`));
  process.on("unhandledRejection", (e) => log(`unhandled rejection: ${e instanceof Error ? e.stack : String(e)}`));
  const { info, maxBytes } = configuration(file);
  const executor = startCellExecutor(process.cwd(), prestartPes());
  executor.catch(() => undefined); // the kernel reports a failed start once it is up
  // Its thread boots while this one loads the sockets and the protocol code.
  heartbeat = startHeartbeat(endpoint(info, "hb"), maxBytes);
  const { Kernel: KernelServer } = await import("./server/kernel.ts");
  kernel = await KernelServer.start(info, { cwd: process.cwd(), executor, heartbeat, maxMessageBytes: maxBytes });
  // Like ipykernel's parent poller: a kernel whose launcher died (the Jupyter server, nbconvert,
  // a test) is reparented; nobody can reach it any more, so it shuts down instead of lingering.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      log(`launcher (pid ${parent}) is gone: shutting down`);
      void kernel?.stop(0);
      // A cell or PE stuck in a loop may keep an orderly stop from finishing: don't linger.
      setTimeout(() => exit(0), STOP_LIMIT_MS).unref();
    }
  }, PARENT_POLL_MS).unref();
  await kernel.done;
  // Everything is closed; if some handle still lingers, don't let it keep a zombie kernel alive.
  setTimeout(() => exit(), 2000).unref();
}

/**
 * The connection file and the message size limit, checked before anything starts: a kernel that
 * can't honour them refuses to start, saying why in one line (no stack), and exits 2.
 */
function configuration(file: string): { info: ConnectionInfo; maxBytes: number } {
  try {
    const info = readConnectionFile(file);
    // Once, so a frontend's log shows why anyone who can reach the ports is trusted.
    if (!info.key) log(`${file} has an empty key: messages are not signed, and anyone who can reach the kernel's ports can run code`);
    return { info, maxBytes: maxMessageBytes() };
  } catch (e) {
    log(`cannot start: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  }
}

/**
 * The PE threads, started before anything else: they load the runtime while the cell thread (their
 * driver) starts, and it adopts them. Not when the PEs will be processes (CHARM4TS_TRANSPORT,
 * CHARM4TS_HOSTS): the runtime starts those itself.
 */
function prestartPes(): Prestart | undefined {
  const transport = process.env.CHARM4TS_TRANSPORT;
  if ((transport && transport !== "threads") || process.env.CHARM4TS_HOSTS) return undefined;
  const numPes = kernelPeCount();
  return Number.isInteger(numPes) && numPes >= 1 && numPes <= MOST_PES_STARTED_AHEAD ? prestartPeThreads(numPes) : undefined;
}

main().catch((e) => {
  // A taken port is the host's state, not a bug: one line, no stack.
  log(e instanceof PortInUseError ? `cannot start: ${e.message}` : `fatal: ${e instanceof Error ? e.stack : String(e)}`);
  exit(1);
});
