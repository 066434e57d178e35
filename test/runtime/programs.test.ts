// The seed programs, run the way users run them: `charmrun +p2 examples/….ts`.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
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

  it("a program that throws in main exits 1 with its error", async () => {
    const { code, stderr } = await charmrun("+p2", "test/runtime/fixtures/program-fails.ts");
    expect(code).toBe(1);
    expect(stderr).toContain("main failed on purpose");
  });

  it("an exception nobody awaits is printed with its PE and chare, and the program exits 1", async () => {
    const { code, stderr } = await charmrun("+p2", "test/runtime/fixtures/program-unhandled.ts");
    expect(code).toBe(1);
    expect(stderr).toContain("Error: nobody awaits this (raised on PE 1 in Thrower[1].go)");
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
