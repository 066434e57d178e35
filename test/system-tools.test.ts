// The skip-or-fail logic of test/system-tools.ts, in a vitest of its own over a fixture suite that
// needs Chromium, with Chromium made to count as missing (CHARM4TS_PRETEND_MISSING): skipped and
// named in the summary, or under CHARM4TS_CI=1 failed, naming the tool and the install command.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { INSTALL_COMMAND, SYSTEM_TOOLS, summary } from "./system-tools.ts";

const root = fileURLToPath(new URL("../", import.meta.url));

/** Runs the fixture suite in a child vitest with `env` (over this environment without CHARM4TS_CI). */
function fixtureRun(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const { CHARM4TS_CI: _ci, CHARM4TS_PRETEND_MISSING: _pretend, ...inherited } = process.env;
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--config", "test/fixtures/system-tools.config.ts"],
      { cwd: root, env: { ...inherited, ...env, NO_COLOR: "1" }, timeout: 60_000 },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, output: stdout + stderr }));
  });
}

describe("a suite whose system tool is missing", () => {
  it("is skipped, and the run passes with one summary naming the tool and `npm run setup-system`", async () => {
    const r = await fixtureRun({ CHARM4TS_PRETEND_MISSING: "chromium" });
    expect(r.output).toMatch(/Tests\s+1 passed \| 1 skipped \(2\)/);
    expect(r.output).toContain("1 suite skipped: missing system tools chromium (Chromium). Install them with `npm run setup-system`");
    expect(r.code, r.output).toBe(0);
  });

  it("under CHARM4TS_CI=1 fails instead, naming the tool and the command that installs it", async () => {
    const r = await fixtureRun({ CHARM4TS_PRETEND_MISSING: "chromium", CHARM4TS_CI: "1" });
    expect(r.output).toMatch(/Tests\s+1 failed \| 1 passed \(2\)/);
    expect(r.output).toContain("a suite that drives Chromium > needs chromium");
    expect(r.output).toContain("Install them: npm run setup-system (apt-get install chromium fonts-liberation)");
    expect(r.output).toContain("1 suite failed (CHARM4TS_CI=1): missing system tools chromium (Chromium)");
    expect(r.code).toBe(1);
  });

  it("an unknown name in CHARM4TS_PRETEND_MISSING stops the run, listing the known ones", async () => {
    const r = await fixtureRun({ CHARM4TS_PRETEND_MISSING: "chromiun" });
    expect(r.output).toContain(`CHARM4TS_PRETEND_MISSING names unknown tools (chromiun); known: ${Object.keys(SYSTEM_TOOLS).join(", ")}`);
    expect(r.code).not.toBe(0);
  });
});

describe("the tool catalogue", () => {
  it("names only packages that `npm run setup-system` installs", () => {
    const script = readFileSync(`${root}scripts/setup-system.sh`, "utf8");
    const installed = new Set(/PACKAGES=\(([^)]*)\)/.exec(script)![1]!.split(/\s+/).filter(Boolean));
    expect(Object.values(SYSTEM_TOOLS).flatMap((t) => t.packages).filter((p) => !installed.has(p))).toEqual([]);
    expect(JSON.parse(readFileSync(`${root}package.json`, "utf8")).scripts["setup-system"]).toBe("bash scripts/setup-system.sh");
    expect(INSTALL_COMMAND).toBe("npm run setup-system");
  });

  it("sums up several suites and tools in one paragraph", () => {
    const notes = [
      { tools: ["mpirun"], suite: "under Open MPI's mpirun", failed: false },
      { tools: ["slurm", "mpirun"], suite: "under srun", failed: false },
    ].map((n) => JSON.stringify(n));
    expect(summary(notes)).toBe("2 suites skipped: missing system tools mpirun (Open MPI's mpirun), slurm (Slurm and munge). Install them with `npm run setup-system` (Debian/Ubuntu, apt-get as root), then run the tests again.");
    expect(summary([])).toBe("");
  });
});
