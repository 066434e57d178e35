// Every directory a test makes under the system's temp folder comes from here, so that none
// outlives its test file: a run leaves nothing behind in /tmp (global-setup.ts checks). The
// removal is one afterAll, registered when a test file first imports this module, before the
// file's own hooks; vitest runs afterAll hooks last-registered first, so the file's kernels,
// servers and browsers have stopped writing into these directories by the time they go.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, type RunnerTask } from "vitest";

/** This file's directories; `keepOnFailure` ones stay (and are printed) when one of its tests failed. */
const made: Array<{ dir: string; keepOnFailure: boolean }> = [];

// The first argument is the (unused) fixture context: vitest requires it destructured.
afterAll(({}, file) => {
  const failed = hasFailed(file);
  for (const { dir, keepOnFailure } of made.splice(0)) {
    if (failed && keepOnFailure) console.log(`kept for the failed test: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
});

/** A new directory `<os.tmpdir()>/charm4ts-<name>-XXXXXX`, removed when the calling test file ends. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `charm4ts-${name}-`));
  made.push({ dir, keepOnFailure: false });
  return dir;
}

/**
 * Where a test file's screenshots go: CHARM4TS_SCREENSHOT_DIR when the developer set it (never
 * removed), else a new temp directory kept, and its path printed, only when a test of the file failed.
 */
export function screenshotDir(name: string): string {
  const chosen = process.env.CHARM4TS_SCREENSHOT_DIR;
  if (chosen) return chosen;
  const dir = mkdtempSync(join(tmpdir(), `charm4ts-${name}-`));
  made.push({ dir, keepOnFailure: true });
  return dir;
}

/** Whether the task, or any test or hook under it, failed (a failed beforeAll fails its suite). */
function hasFailed(task: Readonly<RunnerTask>): boolean {
  return task.result?.state === "fail" || ("tasks" in task && task.tasks.some(hasFailed));
}
