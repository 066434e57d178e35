// test/temp-dir.ts and the temp-folder check (test/temp-leftovers.ts), each in a vitest of its own
// over a fixture file: a passing file leaves nothing; a failing one keeps only its screenshots and
// prints where; a file that bypasses the helper fails the run, naming what it left.
import { execFile } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";

const root = fileURLToPath(new URL("../", import.meta.url));

/** Runs test/fixtures/<fixture>.fixture.ts in a child vitest with `env` (over this environment without CHARM4TS_CI). */
function fixtureRun(fixture: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const { CHARM4TS_CI: _ci, CHARM4TS_SCREENSHOT_DIR: _shots, ...inherited } = process.env;
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--config", "test/fixtures/temp-dir.config.ts"],
      { cwd: root, env: { ...inherited, CHARM4TS_FIXTURE: fixture, ...env, NO_COLOR: "1" }, timeout: 60_000 },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, output: stdout + stderr }));
  });
}

/** The path printed after `label: ` in a fixture's output; removed when the test ends, whatever happened. */
function printed(output: string, label: string): string {
  const path = new RegExp(`^${label}: (\\S+)$`, "m").exec(output)?.[1];
  expect(path, output).toBeDefined();
  onTestFinished(() => rmSync(path!, { recursive: true, force: true }));
  return path!;
}

describe("directories made with test/temp-dir.ts", () => {
  it("are gone after a passing file, screenshots too", async () => {
    const r = await fixtureRun("temp-dirs");
    expect(r.code, r.output).toBe(0);
    expect(existsSync(printed(r.output, "work"))).toBe(false);
    expect(existsSync(printed(r.output, "shots"))).toBe(false);
    expect(r.output).not.toContain("kept for the failed test");
  });

  it("after a failing file: the screenshots stay, printed once; the rest is gone", async () => {
    const r = await fixtureRun("temp-dirs", { CHARM4TS_FAIL: "1" });
    expect(r.code).toBe(1);
    const shots = printed(r.output, "shots");
    expect(existsSync(`${shots}/page.png`)).toBe(true);
    expect(r.output.split(`kept for the failed test: ${shots}`)).toHaveLength(2);
    expect(existsSync(printed(r.output, "work"))).toBe(false);
  });

  it("CHARM4TS_SCREENSHOT_DIR, set by the developer, is used and never removed", async () => {
    const r = await fixtureRun("temp-dirs", { CHARM4TS_SCREENSHOT_DIR: root + "node_modules/.cache" });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain(`shots: ${root}node_modules/.cache\n`);
    expect(existsSync(`${root}node_modules/.cache/page.png`)).toBe(true);
    rmSync(`${root}node_modules/.cache/page.png`);
    rmSync(printed(r.output, "work"), { recursive: true, force: true });
  });
});

describe("a run that leaves a charm4ts-* directory in the temp folder", () => {
  it("fails (under CHARM4TS_CI=1, as when no other vitest runs on the machine), naming it", async () => {
    const r = await fixtureRun("temp-leak", { CHARM4TS_CI: "1" });
    const leaked = printed(r.output, "leaked");
    expect(r.output).toMatch(/Tests\s+1 passed \(1\)/);
    expect(r.output).toContain(`The run left 1 charm4ts-* entries in`);
    expect(r.output).toContain(`\n  ${leaked}\n`);
    expect(r.code).toBe(1);
  });
});
