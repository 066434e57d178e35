// Barrier checkpoints asked for from outside the program: `charmrun +checkpoint-every N` or
// CHARM4TS_CHECKPOINT_EVERY arm `checkpoint: { everySync: N }` when charm.start's options don't
// say; the option wins. A script that never mentions checkpoints loses a PE mid-run and finishes
// as a run that lost nothing; a wrong value stops it at start, naming every spelling.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { everySyncFrom } from "../../runtime/start-options.ts";
import { tempDir } from "../temp-dir.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const PROGRAM = "test/runtime/fixtures/program-every-sync.ts";
const SPELLINGS = "(set it with { checkpoint: { everySync: N } }, +checkpoint-every N or CHARM4TS_CHECKPOINT_EVERY; the option wins)";

/** charmrun with `argv` and `env` added to this environment; bounded by execFile's timeout (named in stderr when it fires). */
function charmrun(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const { CHARM4TS_CHECKPOINT_EVERY: _, ...clean } = process.env;
    execFile(process.execPath, ["bin/charmrun.mjs", ...argv], { cwd: root, timeout: 60_000, env: { ...clean, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === "number" ? (err as any).code : -1) : 0, stdout, stderr: stderr + (err?.killed ? `\n(killed after 60 s: charmrun ${argv.join(" ")})` : "") });
    });
  });
}

describe("everySync from charm.start's option, +checkpoint-every N or CHARM4TS_CHECKPOINT_EVERY", () => {
  const saved = { env: process.env.CHARM4TS_CHECKPOINT_EVERY, argv: process.argv };
  afterEach(() => {
    if (saved.env === undefined) delete process.env.CHARM4TS_CHECKPOINT_EVERY;
    else process.env.CHARM4TS_CHECKPOINT_EVERY = saved.env;
    process.argv = saved.argv;
  });
  const env = (value: string | undefined) => {
    if (value === undefined) delete process.env.CHARM4TS_CHECKPOINT_EVERY;
    else process.env.CHARM4TS_CHECKPOINT_EVERY = value;
  };

  it("none of them, or an empty variable: never", () => {
    env(undefined);
    expect(everySyncFrom({})).toBe(0);
    env("");
    expect(everySyncFrom({})).toBe(0);
  });

  it("the variable, the flag over the variable, the option over both (a wrong variable isn't even read then)", () => {
    env("3");
    expect(everySyncFrom({})).toBe(3);
    process.argv = [...saved.argv, "+checkpoint-every", "7"];
    expect(everySyncFrom({})).toBe(7);
    env("nonsense");
    expect(everySyncFrom({ checkpoint: { everySync: 5 } })).toBe(5);
  });

  it.each(["0", "-2", "1.5", "abc", " 2", "0x10", "1e1", "99999999999999999999"])("CHARM4TS_CHECKPOINT_EVERY=%j is refused, naming every spelling", (value) => {
    env(value);
    expect(() => everySyncFrom({})).toThrow(`CHARM4TS_CHECKPOINT_EVERY must be a positive integer N (a checkpoint every N-th AtSync barrier), got ${JSON.stringify(value)} ${SPELLINGS}`);
  });

  it("+checkpoint-every with a wrong value, or none, is refused the same way", () => {
    env(undefined);
    process.argv = [...saved.argv, "+checkpoint-every", "often"];
    expect(() => everySyncFrom({})).toThrow(`+checkpoint-every must be a positive integer N (a checkpoint every N-th AtSync barrier), got "often" ${SPELLINGS}`);
    process.argv = [...saved.argv, "+checkpoint-every"];
    expect(() => everySyncFrom({})).toThrow(`+checkpoint-every must be a positive integer N (a checkpoint every N-th AtSync barrier), got null ${SPELLINGS}`);
  });

  it("a wrong option names every spelling too", () => {
    expect(() => everySyncFrom({ checkpoint: { everySync: 0 } })).toThrow("checkpoint must be { everySync: N }, N a positive integer (a checkpoint every N-th AtSync barrier), got {\"everySync\":0} (set it with { checkpoint: { everySync: N } }, +checkpoint-every N or CHARM4TS_CHECKPOINT_EVERY)");
  });
});

describe("a script that doesn't ask for checkpoints, run by charmrun", () => {
  it.each([
    ["+p2", "threads", { CHARM4TS_CHECKPOINT_EVERY: "2" }, []],
    ["+p3", "processes", {}, ["+processes", "+checkpoint-every", "2"]],
    ["+p5", "threads", {}, ["+checkpoint-every", "2"]],
  ] as const)("%s over %s with %o %o: a PE lost at step 7 of 12, and the run finishes as one that lost nothing", async (pes, _transport, env, flags) => {
    const { code, stdout, stderr } = await charmrun(env, pes, ...flags, PROGRAM, "lose", tempDir("every-script"));
    expect(stdout).toBe("recovered: steps 12, restored 1, same as an uninterrupted run: true\n");
    expect(code).toBe(0);
    // PE processes: a death nothing waited on is printed (recovery is armed, so the script goes on).
    expect(stderr.replace(/charm4ts: PE 2 was lost \(killed by SIGKILL, process \d+\); nothing was waiting on it.*\n/, "")).toBe("");
  }, 90_000);

  it("the program's own { checkpoint: { everySync: 8 } } wins over CHARM4TS_CHECKPOINT_EVERY=2: the PE is lost before its first checkpoint", async () => {
    const { code, stderr } = await charmrun({ CHARM4TS_CHECKPOINT_EVERY: "2" }, "+p3", PROGRAM, "lose", tempDir("every-script"), "--every", "8");
    expect(stderr).toContain("it was lost before the first checkpoint at an AtSync barrier (checkpoint: { everySync: 8 }) was taken");
    expect(code).toBe(1);
  }, 90_000);

  it("+checkpoint-every 0: charmrun stops before compiling, with the reason and its usage", async () => {
    const { code, stdout, stderr } = await charmrun({}, "+p2", "+checkpoint-every", "0", PROGRAM, "lose", tempDir("every-script"));
    expect(stderr).toMatch(/^charmrun: \+checkpoint-every needs a positive integer N \(a checkpoint every N-th AtSync barrier\), got "0"\nusage: charmrun .*\[\+checkpoint-every N\]/);
    expect(stdout).toBe("");
    expect(code).toBe(2);
  }, 90_000);

  it("CHARM4TS_CHECKPOINT_EVERY=2x: the script stops at start with the reason", async () => {
    const { code, stdout, stderr } = await charmrun({ CHARM4TS_CHECKPOINT_EVERY: "2x" }, "+p2", PROGRAM, "lose", tempDir("every-script"));
    expect(stderr).toContain(`CHARM4TS_CHECKPOINT_EVERY must be a positive integer N (a checkpoint every N-th AtSync barrier), got "2x" ${SPELLINGS}`);
    expectNoRuntimeFrames(stderr);
    expect(stdout).toBe("");
    expect(code).toBe(1);
  }, 90_000);

  it("a wrong start option from the environment (CHARM4TS_BALANCER): the reason and how to set it, none of the runtime's frames", async () => {
    const { code, stdout, stderr } = await charmrun({ CHARM4TS_BALANCER: "bogus" }, "+p2", PROGRAM, "lose", tempDir("every-script"));
    expect(stderr).toMatch(/^CharmError: unknown balancer "bogus"; known: greedy, .*\(set it with \{ balancer \}, \+balancer NAME or CHARM4TS_BALANCER\)\n/);
    expectNoRuntimeFrames(stderr);
    expect(stdout).toBe("");
    expect(code).toBe(1);
  }, 90_000);

  it("another array stuck mid-round: every due checkpoint is skipped, the program is warned once, and it ends well", async () => {
    const { code, stdout, stderr } = await charmrun({ CHARM4TS_CHECKPOINT_EVERY: "1" }, "+p3", PROGRAM, "stuck", tempDir("every-script"));
    expect(stdout).toBe("ring of 10 done: 10 values\n");
    expect(code).toBe(0);
    // 12 due barriers of the ring of 10 skipped (the ring of 7 is mid-round), one warning, after the 5th.
    expect(stderr).toMatch(/^charm4ts: warning: the checkpoint at an AtSync barrier \(checkpoint: \{ everySync: 1 \}\) was skipped at the last 5 due barriers \(last: Cell\[\d\] on PE \d is in a load-balancing round \(it called AtSync or is moving\); checkpoint after resumeFromSync\); a PE lost now goes back to the last checkpoint taken, or can't be recovered if none was\. .*\n$/);
  }, 90_000);
});

/** A start that fails in a script reports like an error of main: no unhandled rejection, no frame of the runtime's bundles. */
function expectNoRuntimeFrames(stderr: string): void {
  expect(stderr).not.toMatch(/dist\/|node:internal|Node\.js v\d/);
}

describe("a script whose chare awaits a channel value from a PE that is lost (automatic recovery armed)", () => {
  const CHANNEL_LOSS = "test/runtime/fixtures/program-channel-loss.ts";
  it.each([["threads", []], ["processes", ["+processes"]]] as const)("over %s: the recv()'s PeLostError is rolled back with the rest, and the run finishes as one that lost nothing", async (_transport, flags) => {
    const straight = await charmrun({}, ...flags, CHANNEL_LOSS, join(tempDir("channel-loss"), "marker"), "straight");
    expect(straight.code).toBe(0);
    const { code, stdout, stderr } = await charmrun({}, ...flags, CHANNEL_LOSS, join(tempDir("channel-loss"), "marker"), "lose");
    expect(stdout).toBe(straight.stdout);
    expect(code).toBe(0);
    expect(stderr).toMatch(/failed because of a lost PE; automatic recovery rolls it back:\n.*PeLostError: PE 1 .*a channel's recv\(\) was waiting for a value from Swapper\[1\]/);
    expect(stderr).not.toMatch(/unhandled error/);
    expect(stderr).toMatch(/The PE's chares are lost: automatic recovery goes back to the last checkpoint at an AtSync barrier\./); // not "charm.restart()"
  }, 90_000);
});
