/** The files of a checkpoint directory: listing them, and removing a checkpoint that won't be whole. */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Runtime } from "../core/runtime.ts";
import { MANIFEST } from "./format.ts";

/**
 * Removes the files of `dir` that `which` picks (a checkpoint that won't be whole). Until they are
 * gone the runtime isn't quiescent: a `waitQD` after an interrupted checkpoint finds them removed.
 */
export async function removeFiles(runtime: Runtime, dir: string, which: (name: string) => boolean): Promise<void> {
  const done = runtime.scheduler.traffic.pending();
  try {
    await Promise.all((await filesIn(dir, which)).map((f) => rm(join(dir, f), { force: true })));
  } finally {
    done();
  }
}

/** The files of `dir` that `which` picks, the manifest never among them. */
export async function filesIn(dir: string, which: (name: string) => boolean): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((f) => f !== MANIFEST && which(f));
}
