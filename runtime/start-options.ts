/**
 * charm.start's options, and how each is resolved: the option itself, else charmrun's flag
 * (`+pN`, `+processes`, `+ppn N`, …), else its environment variable, else the default — checked
 * here, so a wrong value fails at start with a message naming where to set it.
 */
import { existsSync } from "node:fs";
import { CharmError } from "./protocol/errors.ts";
import { unknownOption, unknownOptionError } from "./core/option-names.ts";
import { shown } from "./protocol/shown.ts";
import type { DroppedOutput } from "./protocol/messages.ts";
import { defaultPeCount, type PeCount } from "./pe-count.ts";
import type { ProcessOptions } from "./driver/process-pes.ts";
import { heartbeatFor, type HeartbeatTiming } from "./driver/heartbeat.ts";
import { byHandStart } from "./launcher/by-hand.ts";
import { peLayout } from "./driver/layout.ts";
import { checkBalancerName } from "./lb/strategies.ts";
import { DEFAULT_SPIN_US } from "./transport/spin.ts";

/** How to start the runtime. */
export interface StartOptions {
  /**
   * Number of PEs (default: `+pN` on the command line, CHARM4TS_PES, or the CPUs this process
   * may use: the fewest of its CPU affinity mask, its cgroup CPU quota rounded up, the cores).
   */
  numPes?: number;
  /** Modules every PE loads to find chare classes (default: the program itself). */
  modules?: Array<string | URL>;
  /** Arguments passed to main (default: the program path and its arguments, `+pN` removed). */
  args?: string[];
  /**
   * Notebook mode: PEs print through the driver, lines marked "[PE n]", and a creation whose
   * class the notebook's definitions haven't brought yet waits for it briefly. Scripts: off.
   */
  interactive?: boolean;
  /**
   * The load-balancing strategy for arrays created with `useAtSync` that don't name one:
   * "greedy" (default), "refine", "orb", "rotate", "random", "none", or a registered name. Also
   * `+balancer NAME` on the command line, or CHARM4TS_BALANCER.
   */
  balancer?: string;
  /**
   * A checkpoint directory (made by charm.checkpoint) to restore once the PEs are up, before
   * main runs; `charm.restored()` then returns its named values. Also `+restart DIR` on the
   * command line, or CHARM4TS_RESTART.
   */
  restart?: string;
  /** Notebook mode: where PE output goes, with the cause (cell) of the work that printed it and the PE that did; `dropped`: what a PE held back. */
  onOutput?: (stream: "stdout" | "stderr", text: string, cause: number, pe: number, dropped?: DroppedOutput) => void;
  /**
   * What the PEs are: "threads" (default), worker threads of this process; "processes", PE
   * processes on this host, connected over ZeroMQ TCP; "mixed", the first `localPes` PEs threads
   * of this process and the others PE processes. Also `+processes` or `+mixed` on the command
   * line, or CHARM4TS_TRANSPORT. User code can't tell them apart.
   */
  transport?: "threads" | "processes" | "mixed";
  /**
   * PE processes ("processes", "mixed"): how many PEs each process hosts, one worker thread each
   * (default 1). PEs of one process talk over MessagePorts, others over ZeroMQ; a process that
   * dies takes all of its PEs with it. Also `+ppn N` on the command line, or CHARM4TS_PPN.
   */
  pesPerProcess?: number;
  /** "mixed" only: how many PEs (0 … localPes-1) are threads of this process (default half, rounded down; or CHARM4TS_LOCAL_PES). */
  localPes?: number;
  /**
   * PE processes only: seconds a PE may go without answering the driver's heartbeat (its event
   * loop stuck, e.g. an endless loop or one entry method running that long) before it is
   * declared dead and killed. Default 2 (or CHARM4TS_PE_TIMEOUT); 0 turns the check off.
   */
  peTimeout?: number;
  /**
   * Each PE's JavaScript heap limit in MB (default: CHARM4TS_PE_MAX_HEAP_MB, else Node's). A PE
   * that exhausts it dies alone, like any dead PE: calls waiting on it reject with PeLostError
   * ("ran out of memory"). Threads: the Worker's resourceLimits; PE processes this driver
   * spawns: --max-old-space-size (ranks a launcher starts: NODE_OPTIONS=--max-old-space-size=N).
   */
  peMaxHeapMb?: number;
  /**
   * "by-hand": the PE processes ("processes", "mixed") are started by the user — on a cluster's
   * nodes, say, from a notebook — not by this driver. It prints one command per PE process (the
   * secret stays in a file only this user can read) and waits up to 10 minutes for them to join.
   * A function instead gets those shell command lines to run them itself (its own ssh, a batch
   * system's submit command, or here, as the remote-pes notebook does).
   */
  attach?: "by-hand" | ((commands: string[]) => void);
  /**
   * Start the PE processes over ssh on these hosts, PE process i on host i mod their number (as
   * `charmrun ++hosts a,b` or CHARM4TS_HOSTS; CHARM4TS_REMOTE_SHELL, _COMMAND and _CWD apply).
   * From a notebook: `await charm.restart({ hosts: ["node1", "node2"], numPes: 4 })`.
   */
  hosts?: string[];
  /**
   * PE processes: the interface the driver (and a mixed runtime's threads) listen on, e.g. this
   * host's address on the cluster's network (default CHARM4TS_BIND, else 127.0.0.1: loopback only).
   * On every address, loopback included, CURVE encrypts and authenticates every connection.
   */
  bind?: string;
  /**
   * After handling messages, each PE thread keeps looking at its rings (and ports) for up to
   * this many µs before it sleeps, so a reply that comes soon costs no thread wake-up (~40 µs):
   * 50 takes a round trip between PEs from ~40 µs to ~10 µs on a 2-core machine. The window
   * shrinks while looking finds nothing, closes while more runtime threads are awake than there
   * are cores and after a turn that woke the driver, and an idle runtime doesn't look.
   * Default 50 (or CHARM4TS_SPIN_US); 0 turns it off. The driver never spins.
   */
  spinUs?: number;
  /**
   * Checkpoints taken by the runtime itself: `{ everySync: N }` takes an in-memory checkpoint
   * every N-th time the elements of a load-balanced array (`useAtSync`) all wait at their AtSync
   * barrier, and after a PE is lost goes back to the last one by itself, the collections keeping
   * their ids (see the README's checkpoint section). Also `+checkpoint-every N` on the command
   * line, or CHARM4TS_CHECKPOINT_EVERY; this option wins over both.
   */
  checkpoint?: { everySync: number };
}

// Every option's name: a name added to StartOptions doesn't compile until it is added here too.
const OPTION_NAMES = Object.keys({
  numPes: 0, modules: 0, args: 0, interactive: 0, balancer: 0, restart: 0, onOutput: 0, transport: 0, pesPerProcess: 0,
  localPes: 0, peTimeout: 0, peMaxHeapMb: 0, attach: 0, hosts: 0, bind: 0, spinUs: 0, checkpoint: 0,
} satisfies Record<keyof StartOptions, 0>);

// What the options no resolver below reads from elsewhere (a flag, the environment) must be.
const SHAPES: { [K in keyof StartOptions]?: [ok: (value: unknown) => boolean, wanted: string] } = {
  modules: [(v) => Array.isArray(v) && v.every((m) => typeof m === "string" || m instanceof URL), "a list of module paths or URLs"],
  args: [(v) => Array.isArray(v) && v.every((a) => typeof a === "string"), "a list of strings"],
  interactive: [(v) => typeof v === "boolean", "true or false"],
  onOutput: [(v) => typeof v === "function", "a function (stream, text, cause, pe) => void"],
  bind: [(v) => typeof v === "string" && v !== "", 'an interface\'s address (a string: this host\'s address on the cluster\'s network, or "0.0.0.0" for every interface)'],
  restart: [(v) => typeof v === "string" && v !== "", "a checkpoint directory's path"],
};

/**
 * `options` checked as charm.start and charm.restart take them: an object, every name known, and
 * the options no resolver here reads of the right type (the resolvers check the others).
 */
export function knownOptions(options: unknown): StartOptions {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new CharmError(`charm.start and charm.restart take an options object like { numPes: 4 }, got ${shown(options)}`);
  }
  const unknown = unknownOption(options, OPTION_NAMES);
  if (unknown !== undefined) throw unknownOptionError(unknown, OPTION_NAMES, "charm.start and charm.restart take");
  for (const [name, value] of Object.entries(options)) {
    const shape = SHAPES[name as keyof StartOptions];
    if (shape && value !== undefined && !shape[0](value)) throw new CharmError(`${name} must be ${shape[1]}, got ${shown(value)}`);
  }
  return options;
}

/** The number of PEs and where it came from: numPes, +pN, or the default (CHARM4TS_PES, the CPU quota or affinity, the cores). */
export function numPesFrom(options: StartOptions): PeCount {
  const fromArgv = process.argv.find((a) => /^\+p\d+$/.test(a));
  const { count: n, source } = options.numPes !== undefined ? { count: options.numPes, source: "{ numPes }" } : fromArgv ? { count: Number(fromArgv.slice(2)), source: fromArgv } : defaultPeCount();
  if (!Number.isInteger(n) || n < 1 || n > 8000) throw new CharmError(`number of PEs must be an integer from 1 to 8000, got ${shown(n)} (set it with +pN, CHARM4TS_PES or { numPes })`);
  return { count: n, source };
}

/** The checkpoint to restore at start: restart, +restart DIR, or CHARM4TS_RESTART (undefined: none); a directory that isn't there is refused. */
export function restartFrom(options: StartOptions): string | undefined {
  const flag = process.argv.indexOf("+restart");
  const dir = options.restart ?? (flag >= 0 ? process.argv[flag + 1] : undefined) ?? (process.env.CHARM4TS_RESTART || undefined);
  // Checked before a start (or restart) boots anything, rather than once the PEs are up.
  if (dir !== undefined && !existsSync(dir)) throw new CharmError(`restart: there is no checkpoint directory ${dir} (set it with { restart }, +restart DIR or CHARM4TS_RESTART; charm.checkpoint(dir) makes one)`);
  return dir;
}

/** The default balancer's name: balancer, +balancer NAME, CHARM4TS_BALANCER, or greedy. */
export function balancerFrom(options: StartOptions): string {
  const flag = process.argv.indexOf("+balancer");
  const name = options.balancer ?? (flag >= 0 ? process.argv[flag + 1] : undefined) ?? process.env.CHARM4TS_BALANCER ?? "greedy";
  if (typeof name !== "string") throw new CharmError(`balancer must be a strategy's name ("greedy", "refine", …, or one charm.registerBalancer added), got ${shown(name)}`);
  try {
    return checkBalancerName(name);
  } catch (err) {
    throw new CharmError(`${(err as Error).message} (set it with { balancer }, +balancer NAME or CHARM4TS_BALANCER)`);
  }
}

/** The spin window in µs: spinUs, CHARM4TS_SPIN_US, or the default (see StartOptions.spinUs). */
export function spinFrom(options: StartOptions): number {
  const env = process.env.CHARM4TS_SPIN_US;
  const us = options.spinUs ?? (env === undefined || env === "" ? DEFAULT_SPIN_US : Number(env));
  if (typeof us !== "number" || !Number.isFinite(us) || us < 0 || us > 1e6) throw new CharmError(`spinUs must be a number of µs from 0 (off) to 1000000, got ${options.spinUs !== undefined ? shown(options.spinUs) : env} (set it with { spinUs } or CHARM4TS_SPIN_US)`);
  return us;
}

const EVERY_SYNC_SPELLINGS = "{ checkpoint: { everySync: N } }, +checkpoint-every N or CHARM4TS_CHECKPOINT_EVERY";

/**
 * How often to checkpoint at AtSync barriers: checkpoint.everySync, else +checkpoint-every N,
 * else CHARM4TS_CHECKPOINT_EVERY (so a job script arms it without editing the program); 0: never.
 */
export function everySyncFrom(options: StartOptions): number {
  const c = options.checkpoint;
  if (c === undefined) return everySyncOutside();
  const n = c !== null && typeof c === "object" ? c.everySync : undefined;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) throw new CharmError(`checkpoint must be { everySync: N }, N a positive integer (a checkpoint every N-th AtSync barrier), got ${JSON.stringify(c)} (set it with ${EVERY_SYNC_SPELLINGS})`);
  return n;
}

/** +checkpoint-every N on the command line, or CHARM4TS_CHECKPOINT_EVERY (unset or empty: 0, never). */
function everySyncOutside(): number {
  const flag = process.argv.indexOf("+checkpoint-every");
  const [text, where] = flag >= 0 ? [process.argv[flag + 1], "+checkpoint-every"] : [process.env.CHARM4TS_CHECKPOINT_EVERY, "CHARM4TS_CHECKPOINT_EVERY"];
  if (flag < 0 && (text === undefined || text === "")) return 0;
  // Digits only: Number() would take "", " 2", "0x10" and "1e1".
  const n = /^\d+$/.test(text ?? "") ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new CharmError(`${where} must be a positive integer N (a checkpoint every N-th AtSync barrier), got ${JSON.stringify(text ?? null)} (set it with ${EVERY_SYNC_SPELLINGS}; the option wins)`);
  return n;
}

/** Where PEs live: "threads", "processes" or "mixed". */
export type TransportKind = NonNullable<StartOptions["transport"]>;

/** The transport: transport, +processes / +mixed, CHARM4TS_TRANSPORT, or threads. */
export function transportFrom(options: StartOptions): TransportKind {
  const flag = process.argv.includes("+processes") ? "processes" : process.argv.includes("+mixed") ? "mixed" : undefined;
  const name = options.transport ?? flag ?? process.env.CHARM4TS_TRANSPORT ?? "threads";
  if (name !== "threads" && name !== "processes" && name !== "mixed") throw new CharmError(`transport must be "threads", "processes" or "mixed", got ${JSON.stringify(name)} (set it with { transport }, +processes, +mixed or CHARM4TS_TRANSPORT)`);
  return name;
}

/** Where PEs live besides the transport: PEs per process, and a mixed runtime's threads here. */
export function layoutFrom(options: StartOptions, transport: TransportKind, numPes: number): { pesPerProcess: number; localPes: number } {
  const flag = process.argv.indexOf("+ppn");
  // The option is a number as given (a string there is a mistake); the flag and the variable are text.
  const ppnText = (flag >= 0 ? process.argv[flag + 1] : undefined) ?? process.env.CHARM4TS_PPN;
  const ppn = options.pesPerProcess ?? Number(ppnText ?? 1);
  if (!Number.isInteger(ppn) || ppn < 1) throw new CharmError(`pesPerProcess must be a whole number from 1, got ${options.pesPerProcess !== undefined ? shown(ppn) : ppnText} (set it with { pesPerProcess }, +ppn N or CHARM4TS_PPN)`);
  if (ppn > 1 && transport === "threads") throw new CharmError(`pesPerProcess (+ppn) groups PE processes' PEs: use it with transport "processes" or "mixed" (+processes, +mixed)`);
  if (options.localPes !== undefined && transport !== "mixed") throw new CharmError(`localPes is for transport "mixed" (some PEs threads here, the others processes), not "${transport}"`);
  const localText = process.env.CHARM4TS_LOCAL_PES;
  const local = options.localPes ?? Number(localText ?? Math.floor(numPes / 2));
  if (!Number.isInteger(local) || local < 0 || local > numPes) throw new CharmError(`localPes must be a whole number from 0 to the number of PEs (${numPes}), got ${options.localPes !== undefined ? shown(local) : localText} (set it with { localPes } or CHARM4TS_LOCAL_PES)`);
  return { pesPerProcess: ppn, localPes: transport === "mixed" ? local : 0 };
}

/** The PE processes' heartbeat from `peTimeout` (undefined: their default, or CHARM4TS_PE_TIMEOUT). */
export function heartbeatFrom(options: StartOptions): HeartbeatTiming | false | undefined {
  const seconds = options.peTimeout;
  if (seconds === undefined) return undefined;
  if (typeof seconds !== "number" || !(seconds >= 0) || seconds === Infinity) throw new CharmError(`peTimeout must be a number of seconds (0 turns the PE heartbeat off), got ${shown(seconds)}`);
  return seconds === 0 ? false : heartbeatFor(seconds);
}

/** The environment the ssh launch reads, with `options.hosts` in it when given. */
export function hostsFrom(options: StartOptions): NodeJS.ProcessEnv {
  if (options.hosts === undefined) return process.env;
  if (!Array.isArray(options.hosts) || options.hosts.length === 0 || options.hosts.some((h) => typeof h !== "string" || h.trim() === "" || h.includes(","))) {
    throw new CharmError(`hosts must be a non-empty list of host names (as ssh takes them), got ${JSON.stringify(options.hosts)}`);
  }
  return { ...process.env, CHARM4TS_HOSTS: options.hosts.join(",") };
}

/** Options for PE processes the user starts (attach: "by-hand"), after checking they can be. */
export function byHandFrom(options: StartOptions, how: { launched: boolean; ssh: boolean; transport: TransportKind; numPes: number; layout: { pesPerProcess: number; localPes: number } }): ProcessOptions {
  const attach = options.attach;
  if (attach !== "by-hand" && typeof attach !== "function") throw new CharmError(`attach: "${String(attach)}" isn't known; "by-hand" waits for PE processes you start, a function gets their commands`);
  if (how.launched || how.ssh) throw new CharmError('attach: "by-hand" is for PE processes you start yourself; under mpirun/srun or ++hosts the launcher starts them');
  if (how.transport === "threads") throw new CharmError('attach: "by-hand" attaches PE processes: use it with transport "processes" or "mixed" (threads of this process need no attaching)');
  const layout = peLayout(how.numPes, how.layout.localPes, how.layout.pesPerProcess);
  if (layout.processes.length === 0) throw new CharmError('attach: "by-hand" with no PE processes to wait for: every PE is a thread here (localPes = numPes)');
  return byHandStart(layout, (text, commands) => {
    if (typeof attach !== "function") return console.log(text);
    try {
      attach(commands);
    } catch (err) {
      // The runtime still waits for them: the user can start them by hand instead.
      console.error(`charm4ts: attach(commands) threw ${(err as Error)?.stack ?? String(err)}\n${text}`);
    }
  });
}
