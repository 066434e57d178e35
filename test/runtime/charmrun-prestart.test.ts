// charmrun spawns its PE threads before it loads the program (runtime/launcher/threads-ahead.ts):
// the program's charm.start adopts them when it asks for as many PEs, starts its own otherwise,
// and a program that never starts the runtime, or fails at its top level, ends as it did before.
import { describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { threadsAhead } from "../../runtime/launcher/threads-ahead.ts";
import { bounded } from "../bounded.ts";
import { balancerNames } from "../../runtime/lb/strategies.ts";
import { compileProgram } from "../../runtime/launcher/compile.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
// A run that takes longer was held up (by threads no driver took, say): the test says so.
const BOUND_MS = 20_000;

interface Run { code: number | null; stdout: string; stderr: string; killed: boolean }

function charmrun(...args: string[]): Promise<Run> {
  return run(process.execPath, ["bin/charmrun.mjs", ...args]);
}

function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: root, timeout: BOUND_MS }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number; killed?: boolean }) | null;
      resolve({ code: e ? (typeof e.code === "number" ? e.code : null) : 0, stdout, stderr, killed: e?.killed ?? false });
    });
  });
}

const program = "test/runtime/fixtures/program-prestart.ts";
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("charmrun with threads started ahead", () => {
  it.each([2, 3, 5])("+p%i: every PE answers from a thread started before the program loaded", async (n) => {
    const run = await charmrun(`+p${n}`, program);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ numPes: n, pes: range(n), started: range(n).map(() => "ahead") });
  });

  it("a program whose charm.start asks for 3 PEs under +p2 gets 3 threads of its own; the 2 started ahead end", async () => {
    const run = await charmrun("+p2", program, "3");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ numPes: 3, pes: range(3), started: range(3).map(() => "by the driver") });
  });

  it("a script that never calls charm.start exits 0 by itself (threads no start adopted don't hold the process), and is told it never started", async () => {
    const run = await charmrun("+p2", "test/runtime/fixtures/program-no-start.ts");
    expect(run.killed, `the script was still running after ${BOUND_MS} ms (waited for it to exit by itself)`).toBe(false);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("a plain script; charm.start is a function it never calls\n");
    // A student who forgot the last line saw nothing at all: no output, exit 0.
    expect(run.stderr).toBe("charmrun: test/runtime/fixtures/program-no-start.ts ended without calling charm.start(main), so nothing ran on the PEs; end the program with charm.start(main) (main runs on the driver once the PEs are up)\n");
  });

  it("exit codes set while the adopted threads stop hold: main throws → 1, charm.exit(3) on a PE → 3", async () => {
    // The driver awaits held threads' exits through their control channel: it must keep the process alive meanwhile.
    const failed = await charmrun("+p2", "test/runtime/fixtures/program-fails.ts");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("main failed on purpose");
    const exited = await charmrun("+p2", "test/runtime/fixtures/program-exit.ts", "exit", "3");
    expect(exited.code).toBe(3);
  });

  it("a program that throws at its top level exits 1 with its message, as without threads ahead", async () => {
    const run = await charmrun("+p2", "test/runtime/fixtures/program-throws-top.ts");
    expect(run.killed, `the program was still running after ${BOUND_MS} ms`).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("charmrun: the top level failed on purpose\n");
  });
});

describe("threadsAhead: when charmrun starts PE threads early", () => {
  it("with +pN (CHARM4TS_PES by then), as many; else the default count", () => {
    expect(threadsAhead({ CHARM4TS_PES: "3" })).toBe(3);
    expect(threadsAhead({ CHARM4TS_PES: "3", CHARM4TS_TRANSPORT: "threads" })).toBe(3);
    expect(threadsAhead({})).toBeGreaterThanOrEqual(1);
  });

  it("never when the PEs will be processes, restore a checkpoint, or the count is invalid or very large", () => {
    expect(threadsAhead({ CHARM4TS_PES: "3", CHARM4TS_TRANSPORT: "processes" })).toBeUndefined();
    expect(threadsAhead({ CHARM4TS_PES: "3", CHARM4TS_TRANSPORT: "mixed" })).toBeUndefined();
    expect(threadsAhead({ CHARM4TS_PES: "3", CHARM4TS_HOSTS: "a,b" })).toBeUndefined();
    expect(threadsAhead({ CHARM4TS_PES: "3", CHARM4TS_RESTART: "ckpt" })).toBeUndefined();
    expect(threadsAhead({ CHARM4TS_PES: "two" })).toBeUndefined();
    expect(threadsAhead({ CHARM4TS_PES: "0" })).toBeUndefined();
    expect(threadsAhead({ CHARM4TS_PES: "1000" })).toBeUndefined();
  });
});

describe("charmrun as a Unix command", () => {
  it.each([["threads", []], ["processes", ["+processes"]], ["mixed", ["+mixed"]]] as const)("`| head -1` (%s): a reader that closes stdout after one line ends the run quietly, exit 0, no EPIPE stack", async (_name, flags) => {
    // PEs print without end. Thread PEs' output reaches the driver's stdout through Node's worker
    // pipes; PE processes write to it themselves, get the EPIPE there, and ask the driver to end.
    const child = spawn(process.execPath, ["bin/charmrun.mjs", "+p2", ...flags, "test/runtime/fixtures/program-prints-on.ts"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      const firstLine = new Promise<string>((resolve) => {
        let out = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
          out += chunk;
          if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
        });
      });
      expect(await bounded(firstLine, BOUND_MS, "the first line of output")).toMatch(/^line \d+ from PE \d$/);
      child.stdout.destroy(); // as head does once it has its line
      const [code, signal] = await bounded(exited, BOUND_MS, "charmrun to end after its stdout closed");
      expect(stderr).not.toMatch(/EPIPE|node:internal|unhandled|transport is closed/);
      expect({ code, signal }).toEqual({ code: 0, signal: null });
    } finally {
      child.kill();
    }
  });

  it("--help lists every built-in balancer, orb included", async () => {
    const run = await charmrun("--help");
    expect(run.code).toBe(2);
    const line = run.stderr.split("\n").find((l) => l.trimStart().startsWith("+balancer"));
    expect(balancerNames()).toContain("orb");
    for (const name of balancerNames()) expect(line).toMatch(new RegExp(`\\b${name}\\b`));
  });

  it("+p 3 (with a space): the unknown option says to write +p3", async () => {
    const run = await charmrun("+p", "3", "examples/hello.ts");
    expect(run.code).toBe(2);
    expect(run.stderr.split("\n")[0]).toBe("charmrun: unknown option +p: write the number of PEs with no space: +p3");
  });

  it("far more PEs than the CPUs this process may use is warned of once (+p5 on 1 CPU), and the run goes on; +p4 on 1 CPU is not", async () => {
    // taskset (util-linux, in every Debian) narrows the affinity mask the PE count reads to one CPU.
    const onOneCpu = (pes: string) => run("taskset", ["-c", "0", process.execPath, "bin/charmrun.mjs", pes, program]);
    const crowded = await onOneCpu("+p5");
    expect(crowded.code).toBe(0);
    expect(JSON.parse(crowded.stdout).pes).toEqual(range(5));
    expect(crowded.stderr).toMatch(/^charm4ts: warning: starting 5 PEs on this host, which has 1 CPU for this process \(CPU affinity: 1 of \d+ cores\): .* \+p1 is one PE per CPU\n$/);
    const fits = await onOneCpu("+p4");
    expect({ code: fits.code, stderr: fits.stderr }).toEqual({ code: 0, stderr: "" });
  });

  it("a program that isn't there, or is a directory, is named in charmrun's words, not a raw ENOENT", async () => {
    const missing = await charmrun("+p2", "examples/nope.ts");
    expect({ code: missing.code, stderr: missing.stderr }).toEqual({ code: 2, stderr: "charmrun: no such program: examples/nope.ts\n" });
    const directory = await charmrun("+p2", "examples");
    expect({ code: directory.code, stderr: directory.stderr }).toEqual({ code: 2, stderr: "charmrun: examples is a directory; give a program file (.ts or .js)\n" });
  });

  it("charm.start's modules are checked alike: compileProgram names a missing file or a directory", async () => {
    await expect(compileProgram(`${root}examples/nope.ts`)).rejects.toThrow(`no such program: ${root}examples/nope.ts`);
    await expect(compileProgram(`${root}examples`)).rejects.toThrow(/examples is a directory; give a program file \(\.ts or \.js\)/);
  });
});
