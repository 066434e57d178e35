// PE processes attached by hand (`attach: "by-hand"`): the driver starts none, prints the command
// for each, and waits; the test plays the user and runs what was printed. Real processes and sockets.
import { afterEach, describe, expect, it, vi } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { charm, CharmError } from "../../runtime/index.ts";
import { Host } from "./fixtures/hosted.ts";
import { clearDefinitions } from "../../runtime/definitions/ship.ts";
import { DefinitionEvaluator } from "../../runtime/definitions/evaluate.ts";
import { definitionScope } from "../../runtime/definitions/scope.ts";
import { findChareClass } from "../../runtime/core/registry.ts";
import { tempDir } from "../temp-dir.ts";

const fixtures = new URL("./fixtures/hosted.ts", import.meta.url).href;
const root = fileURLToPath(new URL("../../", import.meta.url));
const jobDir = tempDir("attach");

const started: ChildProcess[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await charm.shutdown();
  for (const child of started.splice(0)) child.kill("SIGKILL");
});

/** The text the driver prints, once it has printed the commands. */
function printedCommands(): Promise<string> {
  return new Promise((resolve) => {
    vi.spyOn(console, "log").mockImplementation((text: unknown) => {
      if (String(text).startsWith("charm4ts: waiting")) resolve(String(text));
    });
  });
}

/** Runs every printed `CHARM4TS_RANK=i npx charm4ts-pe ARGS` line, as the user would on a node. */
function runPrinted(text: string): number {
  return runCommands([...text.matchAll(/^ {2}(CHARM4TS_RANK=\d+ npx charm4ts-pe .+?)\s+# /gm)].map((m) => m[1]!));
}

/** Runs `CHARM4TS_RANK=i npx charm4ts-pe ARGS` command lines (with this checkout's bin, not npx). */
function runCommands(commands: string[]): number {
  for (const command of commands) {
    const [, rank, args] = /^CHARM4TS_RANK=(\d+) npx charm4ts-pe (.+)$/.exec(command)!;
    const child = spawn(process.execPath, ["bin/charm4ts-pe.mjs", ...args!.split(" ")], {
      cwd: root, env: { PATH: process.env.PATH, CHARM4TS_RANK: rank }, stdio: "ignore",
    });
    started.push(child);
  }
  return commands.length;
}

describe('PE processes attached by hand (attach: "by-hand")', () => {
  it("prints one command per PE process, keeps the secret in a 0600 file, and starts once they have joined", async () => {
    vi.stubEnv("CHARM4TS_JOB_DIR", jobDir);
    const printed = printedCommands();
    const starting = charm.start({ numPes: 3, modules: [fixtures], transport: "mixed", localPes: 1, pesPerProcess: 2, attach: "by-hand" });
    const text = await printed;
    // One process, hosting PEs 1 and 2; PE 0 is a thread of this process.
    expect(text).toMatch(/waiting 10 minutes for 1 PE process to join/);
    expect(text).toMatch(/--pes 2 --secret-file \S+\s+# PEs 1–2$/m);
    expect(text).toMatch(/loopback only/);
    const secretFile = /--secret-file (\S+)/.exec(text)![1]!;
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const secret = readFileSync(secretFile, "utf8").trim();
    expect(secret.length).toBeGreaterThan(16);
    expect(text).not.toContain(secret);
    expect(runPrinted(text)).toBe(1);
    await starting;
    const where = await charm.group(Host).where.ret();
    expect(where.map(([pe]) => pe)).toEqual([0, 1, 2]);
    expect(where[0]![1]).toBe(process.pid);
    expect(where[1]![1]).toBe(started[0]!.pid);
    expect(where[2]![1]).toBe(started[0]!.pid);
    await charm.shutdown();
    expect(existsSync(secretFile)).toBe(false);
  });

  it("classes defined before the PEs attached reach them (a notebook's definitions)", async () => {
    vi.stubEnv("CHARM4TS_JOB_DIR", jobDir);
    clearDefinitions();
    await charm.start({ numPes: 1, modules: [], interactive: true });
    // As a notebook ships a cell: the driver evaluates it too, then every PE (and every later one).
    const cell = "class Greeter extends Chare { greet() { return `hello from PE ${charm.myPe()}`; } }\n__charm4tsDefine([Greeter]);";
    await new DefinitionEvaluator(definitionScope()).run(cell);
    await charm.define(cell);
    // A function given as `attach` gets the command lines to run them itself (here: right away).
    let given: string[] = [];
    await charm.restart({ numPes: 2, transport: "processes", attach: (commands) => { given = commands; runCommands(commands); } });
    expect(given).toHaveLength(2);
    expect(given[1]).toMatch(/^CHARM4TS_RANK=1 npx charm4ts-pe --connect tcp:\/\/127\.0\.0\.1:\d+ --secret-file \S+$/);
    const greeters = (charm.group as any)(findChareClass("Greeter")!);
    expect(await greeters.greet.ret()).toEqual(["hello from PE 0", "hello from PE 1"]);
    // Back to threads: the attachment was for that transport, not for every restart after it.
    await charm.restart({ transport: "threads" });
    expect(await (charm.group as any)(findChareClass("Greeter")!).greet.ret()).toEqual(["hello from PE 0", "hello from PE 1"]);
    clearDefinitions();
  });

  it("says when attaching by hand can't apply", async () => {
    await expect(charm.start({ numPes: 2, modules: [fixtures], attach: "by-hand" })).rejects.toThrow(/use it with transport "processes" or "mixed"/);
    await expect(charm.start({ numPes: 2, modules: [fixtures], transport: "mixed", localPes: 2, attach: "by-hand" })).rejects.toThrow(/no PE processes to wait for/);
    await expect(charm.start({ numPes: 2, modules: [fixtures], transport: "processes", attach: "later" as "by-hand" })).rejects.toThrow(CharmError);
  });
});
