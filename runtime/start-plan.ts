/**
 * What a start will do, resolved from its options (then charmrun's flags, the environment, the
 * defaults: start-options.ts) and checked in full before anything is started or stopped, so
 * charm.restart refuses a wrong option with the running runtime still running.
 */
import { pathToFileURL } from "node:url";
import { CharmError } from "./protocol/errors.ts";
import type { ProcessOptions } from "./driver/process-pes.ts";
import type { HeartbeatTiming } from "./driver/heartbeat.ts";
import { launchedRanks } from "./launcher/launched-job.ts";
import { maxHeapFrom } from "./startup/heap-limit.ts";
import {
  balancerFrom, byHandFrom, everySyncFrom, heartbeatFrom, hostsFrom, knownOptions, layoutFrom, numPesFrom, spinFrom, transportFrom,
  type StartOptions, type TransportKind,
} from "./start-options.ts";

// Where charmrun leaves the compiled program's URL (a global: charmrun and the program may load
// different copies of this module's chunk graph in principle; Symbol.for is shared by all).
const ENTRY = Symbol.for("charm4ts.entryModule");

/** A start's options, resolved and checked. */
export interface StartPlan {
  /** The options it was made from. */
  options: StartOptions;
  /** The program modules the PEs load (not compiled yet): `modules`, else the program itself. */
  modules: string[];
  /** The launcher's ranks, under mpirun/srun (charmrun on rank 0): they are the PEs. */
  launchedRanks: number | undefined;
  /** The PEs are processes started over ssh (`hosts`, ++hosts, CHARM4TS_HOSTS). */
  ssh: boolean;
  /** The environment the ssh launch reads. */
  sshEnv: NodeJS.ProcessEnv;
  transport: TransportKind;
  numPes: number;
  /** Where the number of PEs came from, for charm.status(). */
  countedFrom: string;
  layout: { pesPerProcess: number; localPes: number };
  /** PE processes the user starts (attach). */
  byHand: ProcessOptions | undefined;
  heartbeat: HeartbeatTiming | false | undefined;
  maxHeapMb: number | undefined;
  balancer: string;
  spinUs: number;
  /** Take a checkpoint every this many AtSync barriers (0: never). */
  everySync: number;
}

/** Resolves and checks `options`; throws a CharmError naming the first wrong one. */
export function startPlan(given: unknown): StartPlan {
  const options = knownOptions(given);
  const everySync = everySyncFrom(options);
  const entry = (globalThis as any)[ENTRY] as string | undefined ?? (process.argv[1] ? pathToFileURL(process.argv[1]).href : undefined);
  const modules = options.modules?.map(String) ?? (entry ? [entry] : []);
  const ranks = launchedRanks(options.numPes);
  const sshEnv = hostsFrom(options);
  const ssh = ranks === undefined && !!sshEnv.CHARM4TS_HOSTS;
  // Over ssh and under a launcher every PE is in a process (several with +ppn): "threads" can't mean threads there.
  const asked = transportFrom(options);
  const transport = (ssh || ranks !== undefined) && asked === "threads" ? "processes" : asked;
  const counted = ranks !== undefined ? { count: ranks, source: "the launcher's ranks" } : numPesFrom(options);
  const layout = layoutFrom(options, transport, counted.count);
  if (ranks !== undefined && layout.localPes > 0) throw new CharmError("+mixed (localPes) isn't supported with a launcher (mpirun, srun) yet: there every PE is in a rank's process");
  // A launcher's ranks are PE processes: with +ppn N each hosts N PEs.
  const numPes = ranks !== undefined ? counted.count * layout.pesPerProcess : counted.count;
  const countedFrom = ranks !== undefined && layout.pesPerProcess > 1 ? `${counted.source} × ${layout.pesPerProcess} PEs each` : counted.source;
  const byHand = options.attach === undefined ? undefined : byHandFrom(options, { launched: ranks !== undefined, ssh, transport, numPes, layout });
  return {
    options, modules, launchedRanks: ranks, ssh, sshEnv, transport, numPes, countedFrom, layout, byHand, everySync,
    heartbeat: heartbeatFrom(options), maxHeapMb: maxHeapFrom(options.peMaxHeapMb), balancer: balancerFrom(options), spinUs: spinFrom(options),
  };
}
