import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const fixture = fileURLToPath(new URL("../fixtures/import-rules", import.meta.url));

/** Runs scripts/check-cycles.mjs (on `at`, or on this repository) and returns its exit code and lines. */
function check(at?: string): { status: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, ["scripts/check-cycles.mjs", ...(at ? ["--root", at] : [])], { cwd: root, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, lines: `${r.stdout}${r.stderr}`.trim().split("\n") };
}

describe("import rules (scripts/check-cycles.mjs)", () => {
  it("hold in runtime/ and kernel/ (but for the allow-list beside the script, which only shrinks)", () => {
    const { status, lines } = check();
    expect(lines).toEqual(["import rules hold"]);
    expect(status).toBe(0);
  }, 90_000); // the TypeScript parser loads in seconds on a busy machine

  it("finds a value-import cycle, core importing presentation, runtime importing kernel, and a kernel over its two modules", () => {
    const { status, lines } = check(fixture);
    expect(status).toBe(1);
    expect(lines.sort()).toEqual([
      "broken: core imports presentation: runtime/core/pong.ts → runtime/presentation/show.ts",
      "broken: kernel imports 3 runtime modules (at most 2): runtime/core/left.ts runtime/core/ping.ts runtime/core/right.ts",
      "broken: runtime imports kernel: runtime/presentation/show.ts → kernel/k.ts",
      // left ↔ right import each other only for types: erased, no cycle.
      "broken: value-import cycle: runtime/core/ping.ts runtime/core/pong.ts",
    ]);
  }, 90_000);
});
