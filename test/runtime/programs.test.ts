// The seed programs, run the way users run them: `charmrun +p2 examples/….ts`.
import { describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TRANSPORTS, charmrunFlags } from "./transports.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

function runCharmrun(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["bin/charmrun.mjs", ...args], { cwd: root, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === "number" ? (err as any).code : -1) : 0, stdout, stderr });
    });
  });
}

describe.each(TRANSPORTS)("seed programs (%s)", (transport) => {
  const charmrun = (...args: string[]) => runCharmrun(...charmrunFlags(transport), ...args);

  it("hello: 8 chares say hello, each from PE floor(i*2/8), and the program exits 0", async () => {
    const { code, stdout, stderr } = await charmrun("+p2", "examples/hello.ts");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n").sort();
    expect(lines).toEqual(Array.from({ length: 8 }, (_, i) => `Hello from chare: ${i} on PE ${Math.floor((i * 2) / 8)}`).sort());
  });

  it("fib: Fib(10) = 55 and exit code 0", async () => {
    const { code, stdout, stderr } = await charmrun("+p2", "examples/fib.ts", "10");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout.trim()).toBe("Fib(10) = 55");
  });

  it("a second charm.start(main) while the first starts is refused with its line, exit 1 (before: its main silently never ran)", async () => {
    const { code, stdout, stderr } = await charmrun("+p2", "test/runtime/fixtures/program-start-twice.ts");
    expect(code).toBe(1);
    expect(stdout).not.toContain("main 2");
    expect(stderr).toMatch(/^CharmError: charm\.start was called again while an earlier charm\.start was still starting the PEs: a program starts the runtime once/);
    expect(stderr).toMatch(/program-start-twice\.ts:5:\d+/);
  });

  it("a program that throws in main exits 1 with its error", async () => {
    const { code, stderr } = await charmrun("+p2", "test/runtime/fixtures/program-fails.ts");
    expect(code).toBe(1);
    expect(stderr).toContain("main failed on purpose");
  });

  it("an exception nobody awaits is printed with its PE and chare, and the program exits 1", async () => {
    const { code, stderr } = await charmrun("+p2", "test/runtime/fixtures/program-unhandled.ts");
    expect(code).toBe(1);
    expect(stderr).toContain("Error: nobody awaits this (raised on PE 1 in Thrower[1].go)");
    // The program's frame, by its .ts line relative to where it ran; none of the runtime's.
    expect(stderr).toContain("\n    at Thrower.go (test/runtime/fixtures/program-unhandled.ts:6:11)\n");
    expect(stderr).not.toMatch(/dist\/|node:|--- remote stack/);
  });

  it("an awaited remote error shows the program's frames only: the entry method's on its PE, and main's await", async () => {
    const { code, stderr } = await charmrun("+p2", "test/runtime/fixtures/program-remote-error.ts");
    expect(code).toBe(1);
    const fixture = "test/runtime/fixtures/program-remote-error.ts";
    expect(stderr).toBe([
      "RemoteError: RangeError: kaboom (raised on PE 1 in Thrower[1].boom)",
      "  on PE 1, in Thrower[1].boom:",
      `    at explode (${fixture}:12:9)`,
      `    at Thrower.boom (${fixture}:7:12)`,
      "  awaited at:",
      `    at async <anonymous> (${fixture}:17:3)`,
      "",
    ].join("\n"));
  });

  it("CHARM4TS_FULL_STACKS=1 shows the runtime's frames too", async () => {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, ["bin/charmrun.mjs", ...charmrunFlags(transport), "+p2", "test/runtime/fixtures/program-remote-error.ts"], { cwd: root, timeout: 20_000, env: { ...process.env, CHARM4TS_FULL_STACKS: "1" } }, (err, _stdout, stderr) => {
        resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr });
      });
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/at Thrower\.boom \(test\/runtime\/fixtures\/program-remote-error\.ts:7:12\)\n\s+at \S+ \(\S*dist\/chunk-/);
  });

  it("charm.exit(code) and charm.abort(message) from a PE end the program", async () => {
    const exited = await charmrun("+p2", "test/runtime/fixtures/program-exit.ts", "exit", "3");
    expect(exited.code).toBe(3);
    const aborted = await charmrun("+p2", "test/runtime/fixtures/program-exit.ts", "abort");
    expect(aborted.code).toBe(1);
    expect(aborted.stderr).toContain("charm.abort on PE 1: stopping from PE 1");
  });

  it("hello on 1 and 3 PEs: chares spread over the PEs in blocks", async () => {
    for (const p of [1, 3]) {
      const { code, stdout } = await charmrun(`+p${p}`, "examples/hello.ts");
      expect(code).toBe(0);
      expect(stdout.trim().split("\n").sort()).toEqual(Array.from({ length: 8 }, (_, i) => `Hello from chare: ${i} on PE ${Math.floor((i * p) / 8)}`).sort());
    }
  });
});

describe("fib's argument", () => {
  it.each([[[]], [["abc"]], [["-3"]], [["2.5"]]])("fib %j: its usage line and exit 2, not a run that never ends", async (args) => {
    const { code, stdout, stderr } = await runCharmrun("+p2", "examples/fib.ts", ...args);
    expect(stdout).toBe("");
    expect(stderr).toContain("usage: charmrun +p2 examples/fib.ts N");
    expect(code).toBe(2);
  });
});

describe("a script whose main waits for nothing that can come", () => {
  // The notebook's hang check, for scripts: told once on stderr while it keeps waiting.
  it.each(TRANSPORTS)("says so once the runtime is quiescent (%s), and not while a chare computes", async (transport) => {
    const child = spawn(process.execPath, ["bin/charmrun.mjs", ...charmrunFlags(transport), "+p3", "test/runtime/fixtures/program-forgets.ts", "forget"], { cwd: root });
    let stderr = "";
    const told = new Promise<void>((resolve, reject) => {
      const bound = setTimeout(() => reject(new Error(`no hang notice within 20 s; stderr: ${stderr}`)), 20_000);
      child.stderr.on("data", (d) => { stderr += d; if (stderr.includes("main is waiting")) { clearTimeout(bound); resolve(); } });
    });
    try {
      await told;
    } finally {
      child.kill("SIGINT");
    }
    expect(stderr).toMatch(/^charm4ts: main is waiting, but the runtime is quiescent — no message is in flight anywhere, so no chare can resolve the 1 future pending on the driver\. Did a chare forget to send its result or to contribute\?/m);
    // A chare suspended at an await (here for a channel message nobody sends) may wait for something outside the runtime: said so.
    const waiting = spawn(process.execPath, ["bin/charmrun.mjs", ...charmrunFlags(transport), "+p3", "test/runtime/fixtures/program-forgets.ts", "channel"], { cwd: root });
    let waitingErr = "";
    try {
      await new Promise<void>((resolve, reject) => {
        const bound = setTimeout(() => reject(new Error(`no hang notice within 20 s; stderr: ${waitingErr}`)), 20_000);
        waiting.stderr.on("data", (d) => { waitingErr += d; if (waitingErr.includes("Ctrl-C")) { clearTimeout(bound); resolve(); } });
      });
    } finally {
      waiting.kill("SIGINT");
    }
    expect(waitingErr).toMatch(/^charm4ts: main is waiting for 1 future pending on the driver, and no message is in flight anywhere; 1 entry method is suspended at an await\. If they wait for something outside charm4ts/m);
    // A chare computing for 3 s (past the 2 s check, in steps it sends itself) isn't taken for a hang.
    // (Before, those steps also kept the PE from its event loop: over processes the heartbeat took it for stuck.)
    // Nor one waiting in charm.sleep for 3 s.
    for (const how of ["slow", "sleepy"]) {
      const r = await runCharmrun(...charmrunFlags(transport), "+p3", "test/runtime/fixtures/program-forgets.ts", how);
      expect(r.stderr, how).toBe("");
      expect(r.stdout.trim(), how).toBe("got 42");
      expect(r.code, how).toBe(0);
    }
  }, 90_000);
});
