// Several "hosts" on one machine: Linux network namespaces joined by veth pairs to two bridges
// (two networks), as root. The bridges live in a namespace of their own, so the root namespace's
// firewall never sees host-to-host traffic; the root namespace (the driver's) joins both
// networks through a veth pair of its own. Names carry a random id, so runs never collide.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";

/** One namespace standing for a host, with an address on each network. */
export interface NetnsHost {
  /** The namespace's name (`ip netns exec NAME …`). */
  ns: string;
  /** Its address on network 0 and on network 1. */
  addresses: [string, string];
}

/** The namespaces and networks of one test run. */
export interface NetnsCluster {
  hosts: NetnsHost[];
  /** The root namespace's address on network 0 and on network 1. */
  root: [string, string];
  /** Removes every namespace (and with them every veth and bridge) this cluster made. */
  destroy(): void;
}

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Says why namespaces can't be made (suites check first: "netns" in test/system-tools.ts). */
function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("these tests make Linux network namespaces and veth pairs: run them as root (CI does)");
  try {
    ip("-V");
  } catch {
    throw new Error("the `ip` command (iproute2) is missing: apt-get install iproute2");
  }
}

/** Two free /24s of 10.201.0.0/16 next to each other (X and X+1), not used by any interface here. */
function freeSubnets(): [string, string] {
  const used = new Set([...ip("-4", "-o", "addr").matchAll(/inet 10\.201\.(\d+)\./g)].map((m) => Number(m[1])));
  for (let tries = 0; tries < 200; tries++) {
    const x = 2 * (1 + Math.floor(Math.random() * 120));
    if (!used.has(x) && !used.has(x + 1)) return [`10.201.${x}`, `10.201.${x + 1}`];
  }
  throw new Error("no two free /24s left in 10.201.0.0/16");
}

/** Makes `count` host namespaces on two networks; call `destroy` in afterAll. */
export function makeCluster(count: number): NetnsCluster {
  requireRoot();
  const id = randomBytes(3).toString("hex");
  const nets = freeSubnets();
  const made: string[] = [];
  const destroy = () => {
    for (const ns of made.splice(0).reverse()) {
      try {
        // Whatever still runs in our namespaces was started by these tests (sshd, PEs): end it.
        for (const pid of ip("netns", "pids", ns).split("\n").filter(Boolean)) killQuietly(Number(pid));
        ip("netns", "del", ns);
      } catch {
        // already gone
      }
    }
  };
  try {
    const sw = `c4t-${id}-sw`;
    ip("netns", "add", sw);
    made.push(sw);
    for (const n of [0, 1]) {
      ip("-n", sw, "link", "add", `br${n}`, "type", "bridge");
      ip("-n", sw, "link", "set", `br${n}`, "up");
    }
    // A veth pair from `ns` (the root namespace when undefined) to bridge `n`, its end addressed.
    const plug = (ns: string | undefined, tag: string, n: number, address: string) => {
      const end = `c4t${id}${tag}${n}`; // at most 15 characters, unique on the machine
      const port = `p${id}${tag}${n}`;
      ip("link", "add", end, "type", "veth", "peer", "name", port, "netns", sw);
      ip("-n", sw, "link", "set", port, "master", `br${n}`);
      ip("-n", sw, "link", "set", port, "up");
      if (ns) ip("link", "set", end, "netns", ns);
      const at = ns ? ["-n", ns] : [];
      ip(...at, "addr", "add", `${address}/24`, "dev", end);
      ip(...at, "link", "set", end, "up");
    };
    const root: [string, string] = [`${nets[0]}.1`, `${nets[1]}.1`];
    plug(undefined, "r", 0, root[0]);
    plug(undefined, "r", 1, root[1]);
    const hosts = Array.from({ length: count }, (_, i): NetnsHost => {
      const ns = `c4t-${id}-h${i + 1}`;
      ip("netns", "add", ns);
      made.push(ns);
      ip("-n", ns, "link", "set", "lo", "up");
      const addresses: [string, string] = [`${nets[0]}.${i + 2}`, `${nets[1]}.${i + 2}`];
      plug(ns, `h${i + 1}`, 0, addresses[0]);
      plug(ns, `h${i + 1}`, 1, addresses[1]);
      return { ns, addresses };
    });
    // The root ends of the veth pairs go with the switch namespace; nothing else to remove.
    return { hosts, root, destroy };
  } catch (err) {
    destroy();
    throw err;
  }
}

/** TCP ports a process listens on inside namespace `ns` (the root namespace when undefined). */
export function listeningPorts(ns: string | undefined, pid: number): Array<{ address: string; port: number }> {
  const out = execFileSync(ns ? "ip" : "ss", ns ? ["netns", "exec", ns, "ss", "-ltnpH"] : ["-ltnpH"], { encoding: "utf8" });
  return out.split("\n").filter((line) => line.includes(`pid=${pid},`)).map((line) => {
    const local = line.trim().split(/\s+/)[3]!;
    const colon = local.lastIndexOf(":");
    return { address: local.slice(0, colon), port: Number(local.slice(colon + 1)) };
  });
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}
