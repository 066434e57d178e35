import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { tmpdir } from "node:os";
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CellExecutor, type CellOutput } from "../../../kernel/cells/executor.ts";
import { LanguageService } from "../../../kernel/cells/language/client.ts";
import { workerScript } from "../../../kernel/cells/worker-bundle.ts";
import { bounded } from "../../bounded.ts";
import { spawn } from "node:child_process";
import { gone } from "../../runtime/alive.ts";
import { historyText } from "../../../kernel/cells/language/history.ts";
import { recorder } from "./helpers.ts";

const language = new LanguageService(tmpdir(), async () => []);
let executor: CellExecutor;
beforeAll(async () => {
  executor = await CellExecutor.start({ cwd: tmpdir() });
});
afterAll(async () => {
  await language.close();
  await executor.close();
});

it("reports type errors of the current cell with the cell's line numbers", async () => {
  const lines = await language.check(["const base: number = 1;"], "const ok = base + 1;\nconst bad: string = base;", "cell-2.ts");
  expect(lines).toEqual([expect.stringMatching(/^cell-2\.ts:2:7 - error TS2322: Type 'number' is not assignable to type 'string'/)]);
});

it("does not complain when a later cell declares a name again with another type", async () => {
  expect(await language.check(["let q = 1;", "function f(): number { return 1 }"], "let q = 'text';\nfunction f(): string { return q.toUpperCase() }\nf().length", "cell-3.ts")).toEqual([]);
});

it("knows the cell globals and Node's API without @types/node in the notebook's folder", async () => {
  expect(await language.check([], "display.html('<b>x</b>').update('y');\nconst n: string = await input('?');\nprocess.cwd();\nconsole.log(require('node:path').sep)", "cell-1.ts")).toEqual([]);
});

it("knows the runtime's globals and \"charm4ts\" as the kernel's own runtime, from any folder", async () => {
  const cell = `import { charm as c, Reducer as R } from "charm4ts";\nconst chart = barChart({ a: [1] }, { title: "t" });\nconst lost: PeLostError | undefined = undefined;\nconst n: number = c.numPes() + (R.sum ? 0 : 1);`;
  expect(await language.check([], cell, "cell-1.ts")).toEqual([]);
  expect(await language.check([], `import { notThere } from "charm4ts";`, "cell-2.ts")).toEqual([expect.stringMatching(/has no exported member 'notThere'/)]);
});

it("checks a cell again after a module it imports was edited, not from what it found before", async () => {
  const folder = mkdtempSync(join(tmpdir(), "charm4ts-check-"));
  const inFolder = new LanguageService(folder, async () => []);
  try {
    writeFileSync(join(folder, "helper.ts"), "export const n: number = 1;\n");
    const cell = `import { n } from "./helper.ts";\nconst s: string = n;`;
    expect(await inFolder.check([], cell, "cell-1.ts")).toEqual([expect.stringMatching(/^cell-1\.ts:2:7 - error TS2322/)]);
    // The same text again gives the same answer, under the name of the cell that asks.
    expect(await inFolder.check([], cell, "cell-2.ts")).toEqual([expect.stringMatching(/^cell-2\.ts:2:7 - error TS2322/)]);
    writeFileSync(join(folder, "helper.ts"), 'export const n: string = "one";\n');
    utimesSync(join(folder, "helper.ts"), new Date(), new Date(Date.now() + 10_000)); // a coarse clock must not hide the edit
    expect(await inFolder.check([], cell, "cell-3.ts")).toEqual([]);
  } finally {
    await inFolder.close();
    rmSync(folder, { recursive: true, force: true });
  }
});

it("checks a cell run again unchanged against the notebook as it was, not with every earlier run of it", async () => {
  const loop = "counter = counter + 1;";
  const once = await language.check(["let counter: number = 0;", loop], "const wrong: string = counter;", "cell-3.ts");
  const often = await language.check(["let counter: number = 0;", loop, loop, loop], "const wrong: string = counter;", "cell-5.ts");
  expect(once).toEqual([expect.stringMatching(/^cell-3\.ts:1:7 - error TS2322/)]);
  expect(often).toEqual([once[0].replace("cell-3.ts", "cell-5.ts")]);
  expect(historyText(["let counter: number = 0;", loop, "counter;", loop], loop)).toBe("let counter: number = 0;\n;\ncounter;\n;\n");
});

it("runs a cell with a type error anyway, and its report is part of its output before the cell's result", async () => {
  const r = recorder();
  const result = await executor.execute("const wrong: number = 'text';\nconsole.log('ran');\nwrong", r.hooks);
  expect(result).toEqual({ status: "ok", value: { data: { "text/plain": "'text'" }, metadata: {} } });
  expect(r.stdout()).toBe("ran\n");
  expect(r.stderr()).toMatch(/^TypeScript \(the cell ran anyway\):\ncell-\d+\.ts:1:7 - error TS2322/);
});

it("Run All: each cell's type errors are part of its own output by the time its execute resolves, never under another cell", async () => {
  // Five cells queued at once, as Run All sends them; the 1st, 3rd and 5th have type errors.
  const sources = ["let a: number = 'one';", "let b = 2;", "let c: string = b;", "b + 1", "const e: boolean = c;"];
  const recorders = sources.map(() => recorder());
  const results = await Promise.all(sources.map((code, i) => executor.execute(code, recorders[i]!.hooks).then((result) => ({ result, stderr: recorders[i]!.stderr() }))));
  const names = results.map(({ stderr }) => /(cell-[\d-]+\.ts):1:\d+ - error TS23/.exec(stderr)?.[1]);
  expect(results.map(({ result }) => result.status)).toEqual(["ok", "ok", "ok", "ok", "ok"]); // they ran anyway
  expect(names.map(Boolean)).toEqual([true, false, true, false, true]);
  expect(new Set(names.filter(Boolean)).size).toBe(3); // each report names its own cell
  for (const { stderr } of results) expect(stderr.match(/TypeScript \(the cell ran anyway\)/g)?.length ?? 0).toBeLessThanOrEqual(1);
}, 90_000); // run alone, its first check starts the language process (seconds, more on a loaded machine)

/** This process's children started as the language process (`<script> language <cwd>`). */
function languageProcesses(): number[] {
  const children = readdirSync(`/proc/${process.pid}/task`).flatMap((tid) => readFileSync(`/proc/${process.pid}/task/${tid}/children`, "utf8").trim().split(" ").filter(Boolean));
  return children.map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[2] === "language";
    } catch {
      return false; // it ended while we looked
    }
  });
}

it("checks in a process of its own whose every thread (V8's helpers too) is at the lowest priority, unmoved by SIGINT, ended by close", async () => {
  const own = new LanguageService(tmpdir(), async () => []);
  const before = new Set(languageProcesses());
  expect(await own.check([], "const n: number = 'x';", "cell-1.ts")).toEqual([expect.stringMatching(/TS2322/)]);
  const [pid] = languageProcesses().filter((p) => !before.has(p));
  expect(pid).toBeDefined();
  const threads = readdirSync(`/proc/${pid}/task`);
  expect(threads.length).toBeGreaterThan(1);
  // Field 19 of /proc/<pid>/task/<tid>/stat is the nice value (after the parenthesised name).
  const nice = threads.map((tid) => readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]);
  expect(new Set(nice)).toEqual(new Set(["19"]));
  // jupyter_client interrupts the kernel's process group: the language process keeps answering.
  process.kill(pid!, "SIGINT");
  expect(await own.check([], "const s: string = 1;", "cell-2.ts")).toEqual([expect.stringMatching(/TS2322/)]);
  expect(languageProcesses()).toContain(pid);
  await own.close();
  expect(languageProcesses()).not.toContain(pid);
});

it("ends quietly when the kernel dies while it answers (its reply meets a closed channel)", async () => {
  const folder = mkdtempSync(join(tmpdir(), "charm4ts-orphan-"));
  const log = join(folder, "stderr.txt");
  // A stand-in kernel: forks the language process (its stderr to a file), waits for a first answer
  // (TypeScript loaded), asks for a check that takes seconds, says so, and is then killed under it.
  const kernel = `
    const { fork } = require("node:child_process");
    const { openSync } = require("node:fs");
    const child = fork(process.argv[1], ["language", process.argv[2]], { stdio: ["ignore", "ignore", openSync(process.argv[3], "w"), "ipc"], execArgv: [] });
    const slow = Array.from({ length: 4000 }, (_, i) => "const v" + i + ": { a: number; b: string[] } = { a: " + i + ", b: [String(" + i + ")] };").join("\\n");
    child.once("message", () => {
      child.send({ type: "check", id: 2, history: [], code: slow, cellName: "cell-2.ts" });
      console.log("pid " + child.pid);
    });
    child.send({ type: "check", id: 1, history: [], code: "const n = 1;", cellName: "cell-1.ts" });`;
  const stand = spawn(process.execPath, ["-e", kernel, await workerScript(), folder, log], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const line = await bounded(new Promise<string>((resolve, reject) => {
      stand.stdout!.setEncoding("utf8").once("data", resolve);
      stand.once("exit", (code) => reject(new Error(`the stand-in kernel exited with code ${code}`)));
    }), 30_000, "the stand-in kernel's first type check");
    const pid = Number(/pid (\d+)/.exec(line)![1]);
    stand.kill("SIGKILL");
    await vi.waitFor(() => { if (!gone(pid)) throw new Error(`waited 30 s for the language process ${pid} to end after its kernel died`); }, { timeout: 30_000, interval: 50 });
    expect(readFileSync(log, "utf8")).toBe("");
  } finally {
    stand.kill("SIGKILL");
    rmSync(folder, { recursive: true, force: true });
  }
}, 90_000);
