/**
 * PE processes the user starts (`attach: "by-hand"`): on a cluster's nodes, or anywhere the
 * driver can't start them itself — typically from a notebook, whose kernel is the driver. The
 * driver starts none; it writes the runtime's secret to a file only this user can read (in
 * ~/.charm4ts/jobs, a home directory clusters share, or CHARM4TS_JOB_DIR), prints one command per
 * PE process, and waits for them. The secret is never printed: a saved notebook keeps its output.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { PeLayout } from "../driver/layout.ts";
import type { ProcessOptions } from "../driver/process-pes.ts";

/** Long enough to log in to a few nodes and paste a command. */
const BY_HAND_JOIN_MS = 10 * 60_000;

/** The command lines that start PE process `slot` of `layout` (their words, without the program name). */
export function byHandArguments(address: string, secretFile: string, layout: PeLayout, slot: number): string[] {
  const { count } = layout.processes[slot]!;
  return ["--connect", address, ...(count > 1 ? ["--pes", String(count)] : []), "--secret-file", secretFile];
}

/**
 * Process options that wait for PE processes started by hand. `show` gets the instructions for
 * a person and the shell command lines that start each PE process (in the project's folder).
 */
export function byHandStart(layout: PeLayout, show: (text: string, commands: string[]) => void, env: NodeJS.ProcessEnv = process.env): ProcessOptions {
  const dir = env.CHARM4TS_JOB_DIR ?? join(homedir(), ".charm4ts", "jobs");
  // Unique per start (kernels of one user share the folder); created exclusively, removed only by its maker.
  // The global Web Crypto loads node:crypto only when called: importing it would cost every PE thread ~13 ms.
  const secretFile = join(dir, `attach-${process.pid}-${globalThis.crypto.randomUUID()}.secret`);
  return {
    spawn: [],
    joinTimeoutMs: BY_HAND_JOIN_MS,
    announce(address, secret) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(secretFile, `${secret}\n`, { mode: 0o600, flag: "wx" });
      show(instructions(address, secretFile, layout), layout.processes.map((_, slot) => commandLine(address, secretFile, layout, slot)));
    },
    onStop: () => rmSync(secretFile, { force: true }),
  };
}

function commandLine(address: string, secretFile: string, layout: PeLayout, slot: number): string {
  return `CHARM4TS_RANK=${slot} npx charm4ts-pe ${byHandArguments(address, secretFile, layout, slot).join(" ")}`;
}

function instructions(address: string, secretFile: string, layout: PeLayout): string {
  const n = layout.processes.length;
  const pes = layout.processes.map((p) => (p.count > 1 ? `PEs ${p.first}–${p.first + p.count - 1}` : `PE ${p.first}`));
  const lines = layout.processes.map((_, slot) => `  ${commandLine(address, secretFile, layout, slot)}    # ${pes[slot]}`);
  const loopback = /^tcp:\/\/(127\.|\[::1\]|localhost)/.test(address)
    ? "\nThe runtime listens on loopback only, so they must run on this machine; to attach other hosts, start it with " +
      "bind: \"<this host's address>\" (or CHARM4TS_BIND)."
    : "";
  return `charm4ts: waiting ${BY_HAND_JOIN_MS / 60_000} minutes for ${n} PE process${n > 1 ? "es" : ""} to join. Start ${n > 1 ? "each" : "it"} in the project's folder, within a minute of one another:\n` +
    `${lines.join("\n")}\n` +
    `${secretFile} holds the runtime's secret and is readable only by you. Where that file isn't there (no shared home), ` +
    `send it over stdin instead: ssh NODE 'cd PROJECT && CHARM4TS_RANK=0 npx charm4ts-pe ${byHandArguments(address, secretFile, layout, 0).slice(0, -2).join(" ")} --secret-stdin' < ${secretFile}` +
    loopback;
}
