// Programs whose elements move while their neighbours message them, run as users run them, on
// more than two PEs (a third PE is what races a move: the element, its destination, and a sender
// that learned the new place first), over worker threads and PE processes.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { charmrunFlags, type TransportName } from "./transports.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Runs charmrun; a run that doesn't end in 40 s is killed and fails saying so. */
function charmrun(args: string[]): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["bin/charmrun.mjs", ...args], { cwd: root, timeout: 40_000, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
      const code = !err ? 0 : err.killed ? `killed after 40 s waiting for charmrun ${args.join(" ")} to end` : typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : String(err);
      resolve({ code, stdout, stderr });
    });
  });
}

const transports: TransportName[] = ["threads", "processes"];
const number = (stdout: string, re: RegExp): number => Number(re.exec(stdout)?.[1]);

describe.each(transports)("moving programs over %s", (transport) => {
  describe.each([2, 3, 4, 5])("on %i PEs", (pes) => {
    it.each(["", "--channels"])("examples/ring.ts %s: every neighbour value arrives while rotate moves every element each round", async (mode) => {
      const args = [...charmrunFlags(transport), `+p${pes}`, "+balancer", "rotate", "examples/ring.ts", "24", "30", ...(mode ? [mode] : [])];
      const { code, stdout, stderr } = await charmrun(args);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      // The checksum of the same ring on one PE without balancing (computed by the test: no table of magic numbers).
      expect(stdout).toMatch(new RegExp(`checksum ${ringChecksum(24, 30)}, 120 moves$`, "m"));
    });
  });

  describe.each([3, 5])("on %i PEs", (pes) => {
    it("examples/particles.ts with balancing: every particle is still there at the end", async () => {
      const { code, stdout, stderr } = await charmrun([...charmrunFlags(transport), `+p${pes}`, "examples/particles.ts", "6", "4", "1000", "60"]);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      expect(number(stdout, /^Load balancing: (\d+) rounds/m)).toBe(2);
      expect(number(stdout, /^Total particles at the end: (\d+)/m)).toBe(number(stdout, /^Total particles created: (\d+)$/m));
    });
  });
});

/** The ring's checksum, computed here the way examples/ring.ts computes it. */
function ringChecksum(size: number, iterations: number): number {
  let values = Array.from({ length: size }, (_, i) => i);
  for (let it = 0; it < iterations; it++) values = values.map((v, i) => (values[(i - 1 + size) % size]! + 2 * v + values[(i + 1) % size]!) % 1_000_003);
  return values.reduce((a, b) => a + b, 0);
}
