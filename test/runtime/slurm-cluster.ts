// A real one-node Slurm cluster for the launcher tests: munged, slurmctld and slurmd started
// from a temporary directory (own munge key and socket, own ports, own slurm.conf), in about
// two seconds. As this user: root in CI, which lets slurmd start tasks the usual way. Debian's
// munge, slurmctld, slurmd and slurm-client (`npm run setup-system`; the suite needs "slurm" in
// test/system-tools.ts, so it is skipped where they are missing, and fails under CHARM4TS_CI=1).
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, hostname, tmpdir, userInfo } from "node:os";
import { delimiter, join } from "node:path";
import { randomBytes } from "node:crypto";

/** A running cluster: its srun, and the environment that points srun at it. */
export interface SlurmCluster {
  srun: string;
  env: Record<string, string>;
  /** Stops the daemons and removes the directory. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

/** Starts munged, slurmctld and slurmd; resolves once the node is idle (takes jobs). */
export async function startSlurm(): Promise<SlurmCluster> {
  const tools = ["munged", "slurmctld", "slurmd", "srun", "sinfo", "squeue"].map((name) => which(name));
  const [munged, slurmctld, slurmd, srun, sinfo, squeue] = tools as [string, string, string, string, string, string];
  const dir = mkdtempSync(join(tmpdir(), "charm4ts-slurm-"));
  chmodSync(dir, 0o755);
  // munged insists its socket's directory is reachable by all and its key readable by it only.
  const mungeDir = join(dir, "munge");
  mkdirSync(mungeDir, { mode: 0o711 });
  mkdirSync(join(dir, "state"));
  mkdirSync(join(dir, "spool"));
  writeFileSync(join(mungeDir, "munge.key"), randomBytes(1024), { mode: 0o600 });
  const socket = join(mungeDir, "munge.socket");
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  const user = userInfo().username;
  const node = hostname().split(".")[0]!;
  const conf = join(dir, "slurm.conf");
  writeFileSync(conf, [
    "ClusterName=charm4ts",
    `SlurmctldHost=${node}(127.0.0.1)`,
    `SlurmUser=${user}`,
    `SlurmdUser=${user}`,
    "AuthType=auth/munge",
    `AuthInfo=socket=${socket}`,
    "CredType=cred/munge",
    `StateSaveLocation=${join(dir, "state")}`,
    `SlurmdSpoolDir=${join(dir, "spool")}`,
    `SlurmctldPidFile=${join(dir, "slurmctld.pid")}`,
    `SlurmdPidFile=${join(dir, "slurmd.pid")}`,
    `SlurmctldPort=${ctldPort}`,
    `SlurmdPort=${dPort}`,
    `SlurmctldLogFile=${join(dir, "slurmctld.log")}`,
    `SlurmdLogFile=${join(dir, "slurmd.log")}`,
    // No cgroups: processes tracked by parentage, tasks not bound (a container may have neither).
    "ProctrackType=proctrack/linuxproc",
    "TaskPlugin=task/none",
    "JobAcctGatherType=jobacct_gather/none",
    "AccountingStorageType=accounting_storage/none",
    "MpiDefault=none",
    "SchedulerType=sched/builtin",
    "SelectType=select/cons_tres",
    "SelectTypeParameters=CR_Core",
    "ReturnToService=2",
    `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${availableParallelism()} State=UNKNOWN`,
    "PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES",
    "",
  ].join("\n"));
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", SLURM_CONF: conf };

  const daemons: ChildProcess[] = [];
  const stop = async () => {
    // srun returns once its tasks end, but each step's end still travels slurmstepd → slurmctld,
    // signed by munged: stopping those first would leave the step daemon retrying forever.
    if (daemons.length === 3) await until(() => jobsDone(squeue, env), "Slurm jobs still running", dir).catch(() => undefined);
    // The node first, then the controller, then munge, each gone before the next.
    for (const d of [...daemons].reverse()) {
      if (d.exitCode !== null || d.signalCode !== null) continue;
      const gone = new Promise((resolve) => d.once("exit", resolve));
      d.kill("SIGTERM");
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const run = (file: string, args: string[]) => {
    const child = spawn(file, args, { env, stdio: "ignore" });
    daemons.push(child);
  };
  try {
    run(munged, ["-F", "-f", `--key-file=${join(mungeDir, "munge.key")}`, `--socket=${socket}`, `--log-file=${join(dir, "munged.log")}`, `--pid-file=${join(dir, "munged.pid")}`, `--seed-file=${join(mungeDir, "seed")}`]);
    await until(() => existsSync(socket), "munged made no socket", dir);
    run(slurmctld, ["-D", "-i"]);
    run(slurmd, ["-D", "-N", node]);
    await until(() => idle(sinfo, env), "the Slurm node never became idle", dir);
  } catch (err) {
    await stop();
    throw err;
  }
  return { srun, env, stop };
}

/** Whether squeue lists no job still running or completing. */
function jobsDone(squeue: string, env: Record<string, string>): boolean {
  try {
    return execFileSync(squeue, ["-h", "-t", "running,completing"], { env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() === "";
  } catch {
    return false;
  }
}

/** Whether sinfo says the node takes jobs. */
function idle(sinfo: string, env: Record<string, string>): boolean {
  try {
    return execFileSync(sinfo, ["-h", "-o", "%T"], { env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).includes("idle");
  } catch {
    return false; // slurmctld not listening yet
  }
}

/** Polls `ready` every 100 ms (daemons announce readiness only in their logs) up to READY_TIMEOUT_MS. */
async function until(ready: () => boolean, what: string, dir: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${READY_TIMEOUT_MS / 1000} s; logs:\n${logs(dir)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function logs(dir: string): string {
  return ["munged.log", "slurmctld.log", "slurmd.log"].map((f) => {
    const file = join(dir, f);
    return `--- ${f}\n${existsSync(file) ? readFileSync(file, "utf8").slice(-2000) : "(none)"}`;
  }).join("\n");
}

function which(name: string): string {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin"];
  const found = dirs.map((dir) => join(dir, name)).find((file) => existsSync(file));
  if (!found) throw new Error(`${name} is not installed: the Slurm tests start a real one-node cluster (apt-get install munge slurmctld slurmd slurm-client, as .ci/run does)`);
  return found;
}

/** A TCP port nobody listens on now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
