/**
 * `charmrun +p4 ++nodelist FILE prog.ts` (or `++hosts a,b`, or CHARM4TS_HOSTS=a,b from code):
 * the driver runs here and starts every PE process on the listed hosts over ssh, process i on
 * host i mod (number of hosts); a process hosts one PE, or `+ppn N`. Each remote command runs
 * `charm4ts-pe --connect <the driver's rendezvous>` with the process's rank; the runtime's secret (and CURVE keys) go down ssh's stdin,
 * never on a command line, where `ps` on either host would show them.
 *
 * ssh's stdin then stays open as the PE's lifeline: a PE the driver declares dead (a stuck event
 * loop) is "killed" by killing its ssh client, and without a terminal sshd doesn't signal the
 * remote command, so a small shell on the host ends the PE when stdin ends.
 *
 * Every host is assumed to have the project, Node and the compiled program at the same paths as
 * here (a shared file system); CHARM4TS_REMOTE_COMMAND and CHARM4TS_REMOTE_CWD say otherwise.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { basename, join } from "node:path";
import { localAddressToward } from "../startup/local-address.ts";
import { withoutRanks } from "../startup/launcher-env.ts";
import { SECRET_ENV } from "../startup/secret.ts";
import { packageRoot } from "../startup/package-root.ts";
import type { ProcessOptions } from "../driver/process-pes.ts";
import { parseHostList } from "./nodelist.ts";

/** How an ssh launch reaches its hosts and what it runs there. */
export interface SshSettings {
  hosts: string[];
  /** The remote shell and its options, e.g. ["ssh", "-F", "cluster.conf"]; the host and command follow. */
  shell: string[];
  /** The shell words that start a PE process on a host (before `--connect …`). */
  peCommand: string;
  /** The directory the remote command starts in. */
  cwd: string;
}

/** The ssh launch asked for by the environment (CHARM4TS_HOSTS, …), or undefined for none. */
export function sshSettings(env: NodeJS.ProcessEnv = process.env): SshSettings | undefined {
  if (!env.CHARM4TS_HOSTS) return undefined;
  const shell = (env.CHARM4TS_REMOTE_SHELL ?? "ssh").trim().split(/\s+/);
  if (shell[0] === "") throw new Error("CHARM4TS_REMOTE_SHELL (++remote-shell) is empty: give a command such as `ssh -p 2222`");
  return {
    hosts: parseHostList(env.CHARM4TS_HOSTS),
    shell,
    peCommand: env.CHARM4TS_REMOTE_COMMAND ?? `${quote(process.execPath)} ${quote(join(packageRoot(), "bin", "charm4ts-pe.mjs"))}`,
    cwd: env.CHARM4TS_REMOTE_CWD ?? process.cwd(),
  };
}

/** The host PE process `slot` runs on: round-robin over the list. */
export function hostOf(settings: SshSettings, slot: number): string {
  return settings.hosts[slot % settings.hosts.length]!;
}

// Runs on the host under sh, whatever the login shell is; $1 is the process's rank, the rest
// its command. The secret (stdin's first line) reaches the PE in its environment, readable only by
// its user, as for PEs spawned locally. The PE gets no stdin: `cat` holds it, and its end (ssh
// gone) kills the PE even if its event loop is stuck. The shell exits with the PE's exit code.
const REMOTE_SCRIPT = [
  "IFS= read -r secret || exit 2",
  "exec 3<&0",
  "rank=$1; shift",
  'CHARM4TS_SECRET=$secret CHARM4TS_RANK=$rank "$@" </dev/null 3<&- & pe=$!',
  "{ cat >/dev/null; kill -9 $pe; } <&3 >/dev/null 2>&1 & lifeline=$!",
  "exec 3<&-",
  "wait $pe; code=$?",
  "kill $lifeline 2>/dev/null",
  "exit $code",
].join("; ");

/** The command line a remote shell runs for PE process `slot` hosting `pes` PEs (no secret in it: that comes on stdin). */
export function remoteCommand(settings: SshSettings, slot: number, rendezvous: string, pes = 1): string {
  const several = pes > 1 ? ` --pes ${pes}` : "";
  return `cd ${quote(settings.cwd)} && exec sh -c ${quote(REMOTE_SCRIPT)} charm4ts-pe ${slot} ${settings.peCommand} --connect ${rendezvous}${several}`;
}

/** The argv that starts PE process `slot` on its host through the remote shell. */
export function remoteShellArgs(settings: SshSettings, slot: number, rendezvous: string, pes = 1): string[] {
  const [command, ...options] = settings.shell;
  // ssh: never stop to ask for a password or a host key (no one is there to answer), no tty.
  const batch = basename(command!) === "ssh" ? ["-T", "-o", "BatchMode=yes"] : [];
  return [command!, ...batch, ...options, hostOf(settings, slot), remoteCommand(settings, slot, rendezvous, pes)];
}

/**
 * How charm.start starts the PEs of an ssh launch: every PE remote (none spawned beside the
 * driver), the driver bound to CHARM4TS_BIND or else the interface that routes toward the
 * first host (off loopback unless every host is this one's loopback; CURVE either way).
 */
export async function sshStart(env: NodeJS.ProcessEnv = process.env): Promise<ProcessOptions | undefined> {
  const settings = sshSettings(env);
  if (!settings) return undefined;
  let host = env.CHARM4TS_BIND;
  if (!host) {
    const first = settings.hosts[0]!.replace(/^.*@/, ""); // user@host: the host
    try {
      host = await localAddressToward(`tcp://${first}:22`);
    } catch (err) {
      throw new Error(`can't tell which interface reaches ${first} (${(err as Error).message}); set CHARM4TS_BIND to this host's address on the network the hosts share`);
    }
  }
  return { host, spawnPe: (slot, rendezvous, secret, pes) => startRemotePe(settings, slot, rendezvous, secret, pes) };
}

/** Runs the remote shell for one PE process and writes the secret to its stdin. */
function startRemotePe(settings: SshSettings, slot: number, rendezvous: string, secret: string, pes: number): ChildProcess {
  const [command, ...args] = remoteShellArgs(settings, slot, rendezvous, pes);
  const env = withoutRanks(process.env);
  delete env[SECRET_ENV];
  // The PE's output comes back through ssh to this process's own stdout and stderr.
  const child = spawn(command!, args, { env, stdio: ["pipe", "inherit", "inherit"] });
  // A shell that failed to start or exited early can't take the secret; its exit says why.
  child.stdin!.on("error", () => undefined);
  // Not ended: stdin is the PE's lifeline (it closes when this client exits or is killed).
  child.stdin!.write(`${secret}\n`);
  return child;
}

/** Quotes a word for a POSIX shell. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
