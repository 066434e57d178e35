// Every way a runtime ends exits cleanly over every transport: charm.exit() in a charmrun script
// (from main or from a PE), and a runtime whose thread is terminated right after charm.shutdown()
// — the kernel's cell thread. A ZeroMQ socket or observer still receiving when its thread ends
// aborts the whole process ("terminate called after throwing an instance of 'Napi::Error'",
// zeromq.js#411), so these check the exit code, the signal and stderr.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TRANSPORTS, charmrunFlags, over } from "./transports.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const NATIVE_ERROR = /terminate called|Napi::Error|Aborted|core dumped/;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Ended> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, args, { cwd: root, timeout: 30_000 }, (_err, stdout, stderr) =>
      resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr }));
  });
}

describe.each(TRANSPORTS)("a charmrun script ends with charm.exit() (%s)", (transport) => {
  const charmrun = (...args: string[]) => run(["bin/charmrun.mjs", ...charmrunFlags(transport), "+p4", ...args]);

  it.each(["call", "await"])("from main (%s): exit code 0, no native error", async (how) => {
    const r = await charmrun("test/runtime/fixtures/program-main-exit.ts", how);
    expect(r.stderr).not.toMatch(NATIVE_ERROR);
    expect({ code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, signal: null, stdout: "PE 3 answered\n", stderr: "" });
  });

  it("from main amid traffic between every PE: exit code 0 and nothing on stderr, six times over", async () => {
    // A PE thread of a process hosting several ended while ZeroMQ still held what it sent to PEs
    // that were stopping too; ZeroMQ handed it back into freed memory a moment later, and glibc
    // printed "corrupted double-linked list" as the process aborted (1 run in 5).
    for (let round = 0; round < 6; round++) {
      const r = await charmrun("test/runtime/fixtures/program-exit-amid-traffic.ts");
      expect({ round, code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr }).toEqual({ round, code: 0, signal: null, stdout: "", stderr: "" });
    }
  }, 60_000);

  it("from a PE: the code it gave, no native error", async () => {
    const r = await charmrun("test/runtime/fixtures/program-exit.ts", "exit", "0");
    expect(r.stderr).not.toMatch(NATIVE_ERROR);
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: "" });
  });
});

describe.each(TRANSPORTS)("a runtime in a worker thread, terminated right after charm.shutdown() (%s)", (transport) => {
  // The kernel's cell thread drives the runtime, and the kernel terminates it once the runtime
  // has stopped. Several rounds: what is left receiving closes a moment later, on ZeroMQ's thread.
  it("the process exits 0 with no native error, five times over", async () => {
    const thread = `
      const { parentPort } = require("node:worker_threads");
      void (async () => {
        const { charm } = await import(${JSON.stringify(`${root}dist/index.js`)});
        await charm.start({ numPes: 3, modules: [], ...${JSON.stringify(over(transport))} });
        await charm.shutdown();
        parentPort.postMessage("stopped");
      })();`;
    const program = `
      const { Worker } = require("node:worker_threads");
      const worker = new Worker(${JSON.stringify(thread)}, { eval: true });
      worker.once("message", () => void worker.terminate().then(() => console.log("terminated")));`;
    for (let round = 0; round < 5; round++) {
      const r = await run(["-e", program]);
      expect(r.stderr).not.toMatch(NATIVE_ERROR);
      expect({ code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, signal: null, stdout: "terminated\n", stderr: "" });
    }
  }, 60_000);
});
