// Compiled programs live in one folder per user (/tmp/charm4ts-<uid>): a class, or a launcher's
// ranks, start the same program at the same moment and compile it at once. Each compiled file
// appears whole (private name, then rename), and a folder that isn't this user's alone is refused.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { bounded } from "../bounded.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "charm4ts-compile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function charmrun(program: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["bin/charmrun.mjs", "+p2", program], { cwd: root, env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** hello.ts with a comment of its own, so its compiled name is new and every run compiles it. */
function freshHello(): string {
  const program = join(dir, `hello-${randomUUID()}.ts`);
  writeFileSync(program, `// ${randomUUID()}\n${readFileSync(join(root, "examples/hello.ts"), "utf8")}`);
  return program;
}

describe("compiled programs under concurrency", () => {
  it("6 runs of one new program started at once all compile it and run; no partial file is left", async () => {
    const program = freshHello();
    const runs = await bounded(Promise.all(Array.from({ length: 6 }, () => charmrun(program))), 150_000, "6 concurrent charmrun runs");
    for (const r of runs) {
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split("\n")).toHaveLength(8);
    }
    const compiled = readdirSync(join(tmpdir(), `charm4ts-${process.getuid!()}`));
    expect(compiled.filter((f) => f.endsWith(".tmp"))).toEqual([]);
  }, 180_000);

  it("refuses a compile folder that is a link, or that others may write to, saying what to do", async () => {
    const uid = process.getuid!();
    const linked = join(dir, "linked");
    mkdirSync(join(linked, "elsewhere"), { recursive: true });
    symlinkSync(join(linked, "elsewhere"), join(linked, `charm4ts-${uid}`));
    const open = join(dir, "open");
    mkdirSync(join(open, `charm4ts-${uid}`), { recursive: true });
    chmodSync(join(open, `charm4ts-${uid}`), 0o777);
    for (const tmp of [linked, open]) {
      const r = await charmrun(freshHello(), { ...process.env, TMPDIR: tmp });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${join(tmp, `charm4ts-${uid}`)} is not a folder of this user's alone`);
      expect(r.stderr).toContain("set TMPDIR to a private folder");
    }
  }, 60_000);
});
