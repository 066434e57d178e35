// A script run by charmrun +processes whose PE process is killed (fixtures/program-pe-lost.ts):
// a loss the program heard through a waiting call's PeLostError is not reported besides, and
// the script carries on; a loss nothing waited on is reported as a loss and ends it; a call
// after a script's runtime was stopped by an unhandled error says so. A loss heard by a chare on
// another PE (its call rejected there, and caught) is heard too, over processes or threads.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const PROGRAM = "test/runtime/fixtures/program-pe-lost.ts";

/** charmrun +pN +processes (or `flags`) on the fixture; bounded by execFile's timeout (it says so when it fires). */
function charmrun(pes: number, mode: string, flags = ["+processes"]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["bin/charmrun.mjs", `+p${pes}`, ...flags, PROGRAM, mode], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === "number" ? (err as any).code : -1) : 0;
      resolve({ code, stdout, stderr: stderr + (err?.killed ? `\n(killed after 60 s: charmrun +p${pes} ${mode})` : "") });
    });
  });
}

/** The PE and process the program killed, as it printed them. */
const victimOf = (stdout: string): { victimPe: number; victim: number } => JSON.parse(stdout.split("\n")[0]!);

describe("a script whose PE process is killed", () => {
  it.each([2, 3, 5])("on %i PEs, while a call waits on it: main catches PeLostError, nothing else is reported, the other PEs answer, exit 0", async (pes) => {
    const { code, stdout, stderr } = await charmrun(pes, "caught");
    expect(stderr).toBe("");
    expect(stdout).toContain("caught: PeLostError true true\n");
    expect(stdout).toContain(`the other PEs answer: ${2 * (pes - 1)}\n`);
    expect(victimOf(stdout).victimPe).toBe(pes - 1);
    expect(code).toBe(0);
  }, 60_000);

  it.each([2, 3])("on %i PEs, with nothing waiting on it: reported as a lost PE, and the script ends; main's next call says why", async (pes) => {
    const { code, stdout, stderr } = await charmrun(pes, "nothing");
    const { victimPe, victim } = victimOf(stdout);
    const lost = `PE ${victimPe} was lost (killed by SIGKILL, process ${victim}); nothing was waiting on it; its chares are lost`;
    expect(stderr).toContain(`charm4ts: ${lost}. Calls to them throw PeLostError: catch it where you await them; charm.onError(handler) hears of such losses`);
    expect(stderr).not.toContain("nobody awaited it");
    expect(stderr).toContain(`CharmError: the runtime was stopped after an unhandled error: ${lost} (reported above;`);
    expect(stderr).not.toContain("hasn't started");
    expect(code).toBe(1);
  }, 60_000);

  it.each([["processes", ["+processes"]], ["threads", []]] as const)("over %s on 3 PEs, while a chare on PE 0 waits on it: the chare catches PeLostError, nothing is reported, exit 0", async (_, flags) => {
    const { code, stdout, stderr } = await charmrun(3, "caught-on-pe", [...flags]);
    expect(stderr).not.toContain("nothing was waiting");
    expect(stderr).toBe("");
    expect(stdout).toContain("caught: PeLostError on PE 0: PE 2 ");
    expect(code).toBe(0);
  }, 60_000);

  it.each([["processes", ["+processes"]], ["threads", []]] as const)("over %s, with nothing waiting on it and main returning at once: reported, exit 1", async (_, flags) => {
    const { code, stderr } = await charmrun(3, "nothing-returns", [...flags]);
    expect(stderr).toMatch(/charm4ts: PE 2 was lost \([^)]*\); nothing was waiting on it; its chares are lost/);
    expect(code).toBe(1);
  }, 60_000);

  it("an error nobody awaited stops the runtime; main's next call names that error", async () => {
    const { code, stderr } = await charmrun(2, "thrown");
    expect(stderr).toContain("charm4ts: unhandled error (nobody awaited it):\nRemoteError: Error: boom, with nobody awaiting");
    expect(stderr).toMatch(/CharmError: the runtime was stopped after an unhandled error: RemoteError: Error: boom, with nobody awaiting \(raised on PE 1 in Lost\[3\]\.boom\) \(reported above;/);
    expect(stderr).not.toContain("hasn't started");
    expect(code).toBe(1);
  }, 60_000);
});
