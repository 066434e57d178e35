// A script checkpointed and restarted through charmrun: examples/particles.ts runs 40 iterations
// and saves its cells (--checkpoint DIR); `charmrun +restart DIR` on another number of PEs (and
// over processes) carries it on to 80. The end is the one an uninterrupted 80-iteration run
// reaches: particles conserved, the same count in every cell, the same coordinates.
import { afterAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dirs = mkdtempSync(join(tmpdir(), "charm4ts-ckpt-script-"));
afterAll(() => rmSync(dirs, { recursive: true, force: true }));
const ARGS = ["6", "4", "500"];

/** charmrun with `argv`; bounded by execFile's timeout (it names the command when it fires). */
function charmrun(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["bin/charmrun.mjs", ...argv], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === "number" ? (err as any).code : -1) : 0, stdout, stderr: stderr + (err?.killed ? `\n(killed after 60 s: charmrun ${argv.join(" ")})` : "") });
    });
  });
}

/** The line that says where every particle is at the end. */
const ending = (stdout: string): string | undefined => /^Particles per cell: .*$/m.exec(stdout)?.[0];

describe("charmrun +restart DIR", () => {
  it.each([
    ["threads", "+p2", "+p3", []],
    ["processes", "+p3", "+p2", ["+processes"]],
  ] as const)("over %s: %s, checkpoint at 40, %s +restart to 80 = an uninterrupted 80", async (_name, before, after, flags) => {
    const dir = join(dirs, _name);
    const first = await charmrun(before, ...flags, "examples/particles.ts", ...ARGS, "40", "--checkpoint", dir);
    expect(first.stderr).toBe("");
    expect(first.stdout).toMatch(/^Checkpoint: 24 chares, \d+ bytes in /m);
    const [resumed, whole] = await Promise.all([
      charmrun(after, ...flags, "+restart", dir, "examples/particles.ts", ...ARGS, "80"),
      charmrun(before, ...flags, "examples/particles.ts", ...ARGS, "80"),
    ]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^Restored from a checkpoint: 2000 particles, now on \d PEs$/m);
    expect(resumed.stdout).toMatch(/^Total particles at the end: 2000 \(conserved\)$/m);
    expect(ending(resumed.stdout)).toBeDefined();
    expect(ending(resumed.stdout)).toBe(ending(whole.stdout));
  }, 150_000);

  it("a missing checkpoint ends the script with the reason", async () => {
    const { code, stderr } = await charmrun("+p2", "+restart", join(dirs, "nowhere"), "examples/particles.ts", ...ARGS, "80");
    expect(code).toBe(1);
    expect(stderr).toMatch(/there is no checkpoint directory .*nowhere/);
  }, 60_000);
});
