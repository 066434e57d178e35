// The seed's particle simulation run as users run it (`charmrun +p2 examples/particles.ts`), with
// and without load balancing: particles are conserved, and migration changes nothing but placement.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

function particles(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run("+p2", "examples/particles.ts", ...args);
}

function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["bin/charmrun.mjs", ...argv], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === "number" ? (err as any).code : -1) : 0, stdout, stderr });
    });
  });
}

const number = (stdout: string, re: RegExp): number => Number(re.exec(stdout)?.[1]);
const maxReports = (stdout: string): number[] => [...stdout.matchAll(/^Max particles per cell: (\d+)$/gm)].map((m) => Number(m[1]));

describe("examples/particles.ts", () => {
  // 6×4 cells, 2,000 particles in each crowded cell, 60 iterations: balancing at 20 and 40.
  const args = ["6", "4", "2000", "60"];

  it("+balancer on charmrun's command line chooses the strategy (rotate moves every cell each round)", async () => {
    const { code, stdout, stderr } = await run("+p2", "+balancer", "rotate", "examples/particles.ts", ...args);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Load balancing: 2 rounds, 48 cells moved;/m);
    expect(number(stdout, /^Total particles at the end: (\d+)/m)).toBe(number(stdout, /^Total particles created: (\d+)$/m));
  });

  it("without balancing: every particle is still there at the end, and a max report every 10 iterations", async () => {
    const { code, stdout, stderr } = await particles(...args, "--no-lb");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const created = number(stdout, /^Total particles created: (\d+)$/m);
    expect(created).toBeGreaterThan(0);
    expect(number(stdout, /^Total particles at the end: (\d+)/m)).toBe(created);
    expect(maxReports(stdout)).toHaveLength(6);
    expect(stdout).not.toContain("Load balancing:");
  });

  it("with balancing: cells move, particles are conserved, and the run is the same one as without balancing", async () => {
    const [balanced, plain] = [await particles(...args), await particles(...args, "--no-lb")];
    expect(balanced.stderr).toBe("");
    expect(balanced.code).toBe(0);
    const created = number(balanced.stdout, /^Total particles created: (\d+)$/m);
    expect(number(balanced.stdout, /^Total particles at the end: (\d+)/m)).toBe(created);
    // two rounds (after iterations 20 and 40), and the crowd on PE 0 makes the balancer move cells
    expect(number(balanced.stdout, /^Load balancing: (\d+) rounds/m)).toBe(2);
    expect(number(balanced.stdout, /rounds, (\d+) cells moved/m)).toBeGreaterThan(0);
    // Each cell's random generator and particles travel with it, and particles are absorbed in
    // neighbour order, so the maxima are the same numbers wherever the cells ran. (Sorted: a
    // report may overtake another when cell (0, 0) moves.)
    const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
    expect(sorted(maxReports(balanced.stdout))).toEqual(sorted(maxReports(plain.stdout)));
    expect(maxReports(balanced.stdout)).toHaveLength(6);
  });

  it("rejects arguments it doesn't understand, with its usage", async () => {
    const { code, stderr } = await particles("--fast");
    expect(code).toBe(2);
    expect(stderr).toContain("unknown option --fast");
    expect(stderr).toContain("usage: particles.ts");
  });
});
