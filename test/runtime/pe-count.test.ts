// The default PE count's parsing of /proc and cgroup files, on fixed file contents: cgroup v1 and
// v2, "max" and -1, limits on parents, containers that see part of the hierarchy, and malformed
// content (ignored, never a crash). pe-count-cgroup.test.ts runs the same code in real cgroups.
import { describe, expect, it } from "vitest";
import {
  cgroupCpuQuota, cgroupDirs, choosePeCount, defaultPeCount, parseCpuMax, parseMountInfo, parseProcCgroup, parseQuota,
  type Mount,
} from "../../runtime/pe-count.ts";
import { kernelPeCount } from "../../kernel/interactive/pe-count.ts";

// This test machine's mountinfo (cgroup v1 with a v2 hierarchy at /sys/fs/cgroup/unified).
const HYBRID_MOUNTS = `\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
// A systemd host's mountinfo, v1 with cpu and cpuacct together (optional fields before the dash).
const V1_MOUNTS = `\
25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
`;
// A pure v2 host.
const V2_MOUNTS = `\
24 29 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

/** A file reader over fixed contents. */
const files = (contents: Record<string, string>) => (path: string) => contents[path];

describe("parseMountInfo", () => {
  it("reads root, mount point, type and super options, with or without optional fields", () => {
    expect(parseMountInfo(V1_MOUNTS)[1]).toEqual({ root: "/", mountPoint: "/sys/fs/cgroup/cpu,cpuacct", fsType: "cgroup", superOptions: ["rw", "cpu", "cpuacct"] });
    expect(parseMountInfo(V2_MOUNTS)[1]).toEqual({ root: "/", mountPoint: "/sys/fs/cgroup", fsType: "cgroup2", superOptions: ["rw", "nsdelegate", "memory_recursiveprot"] });
    expect(parseMountInfo(HYBRID_MOUNTS).map((m) => m.fsType)).toEqual(["tmpfs", "cgroup", "cgroup", "cgroup", "cgroup2"]);
  });

  it("undoes the octal escapes of paths", () => {
    expect(parseMountInfo("40 31 0:38 /a\\040b /mnt/my\\040cg rw - cgroup2 none rw\n")[0]).toMatchObject({ root: "/a b", mountPoint: "/mnt/my cg" });
  });

  it("skips malformed lines", () => {
    const junk = ["", "garbage", "1 2 3", "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime cgroup cgroup rw,cpu", "32 31 0:29 / /x rw - cgroup", "32 31 0:29 relative /x rw - cgroup cg rw,cpu", "\0\0\0"];
    expect(parseMountInfo(junk.join("\n"))).toEqual([]);
    expect(parseMountInfo(`${junk.join("\n")}\n${V2_MOUNTS}`)).toHaveLength(2);
  });
});

describe("parseProcCgroup", () => {
  it("reads v1 controllers and v2's empty list with each path", () => {
    expect(parseProcCgroup("12:cpu,cpuacct:/user.slice\n1:name=systemd:/user.slice/session-1.scope\n0::/user.slice/session-1.scope\n")).toEqual([
      { controllers: ["cpu", "cpuacct"], path: "/user.slice" },
      { controllers: ["name=systemd"], path: "/user.slice/session-1.scope" },
      { controllers: [], path: "/user.slice/session-1.scope" },
    ]);
  });

  it("keeps colons inside a path and skips malformed lines", () => {
    expect(parseProcCgroup("3:cpu:/a:b\nx:cpu:/a\n4:cpu\n5:cpu:relative\n\n")).toEqual([{ controllers: ["cpu"], path: "/a:b" }]);
  });
});

describe("parseCpuMax and parseQuota", () => {
  it.each([
    ["150000 100000\n", { quota: 150000, period: 100000 }],
    ["100000 100000", { quota: 100000, period: 100000 }],
    ["50000 1000000", { quota: 50000, period: 1000000 }],
    ["max 100000\n", undefined],
    ["max", undefined],
    ["", undefined],
    ["150000", undefined],
    ["150000 100000 7", undefined],
    ["-1 100000", undefined],
    ["0 100000", undefined],
    ["1.5 1", undefined],
    ["100000 0", undefined],
    ["abc def", undefined],
    [undefined, undefined],
  ])("cpu.max %j → %j", (text, limit) => {
    expect(parseCpuMax(text)).toEqual(limit);
  });

  it.each([
    ["100000\n", "100000\n", { quota: 100000, period: 100000 }],
    ["250000", "100000", { quota: 250000, period: 100000 }],
    ["-1\n", "100000\n", undefined],
    ["100000", undefined, undefined],
    [undefined, "100000", undefined],
    ["100000", "0", undefined],
    ["1e5", "100000", undefined],
    ["", "", undefined],
  ])("cfs_quota_us %j, cfs_period_us %j → %j", (quota, period, limit) => {
    expect(parseQuota(quota, period)).toEqual(limit);
  });
});

describe("cgroupDirs", () => {
  const mount = (root: string, mountPoint: string): Mount => ({ root, mountPoint, fsType: "cgroup2", superOptions: [] });

  it("lists the cgroup and each parent up to the mount point, innermost first", () => {
    expect(cgroupDirs(mount("/", "/sys/fs/cgroup"), "/kubepods/pod1/c1")).toEqual(["/sys/fs/cgroup/kubepods/pod1/c1", "/sys/fs/cgroup/kubepods/pod1", "/sys/fs/cgroup/kubepods", "/sys/fs/cgroup"]);
    expect(cgroupDirs(mount("/", "/sys/fs/cgroup/"), "/")).toEqual(["/sys/fs/cgroup"]);
  });

  it("starts below the mount's root when a container sees only its part of the hierarchy", () => {
    expect(cgroupDirs(mount("/docker/abc", "/sys/fs/cgroup/cpu"), "/docker/abc/inner")).toEqual(["/sys/fs/cgroup/cpu/inner", "/sys/fs/cgroup/cpu"]);
    expect(cgroupDirs(mount("/docker/abc", "/sys/fs/cgroup/cpu"), "/docker/abc")).toEqual(["/sys/fs/cgroup/cpu"]);
    // Not under the root (another namespace's view): the mount point only, never a path outside it.
    expect(cgroupDirs(mount("/docker/abc", "/sys/fs/cgroup/cpu"), "/docker/abcdef")).toEqual(["/sys/fs/cgroup/cpu"]);
    expect(cgroupDirs(mount("/", "/sys/fs/cgroup"), "/../../etc")).toEqual(["/sys/fs/cgroup"]);
  });
});

describe("cgroupCpuQuota", () => {
  it("v2: the process's cpu.max", () => {
    const read = files({
      "/proc/self/mountinfo": V2_MOUNTS,
      "/proc/self/cgroup": "0::/kubepods/pod1/c1\n",
      "/sys/fs/cgroup/kubepods/pod1/c1/cpu.max": "150000 100000\n",
    });
    expect(cgroupCpuQuota(read)).toEqual({ cpus: 1.5, source: "cgroup v2 cpu.max 150000/100000 → 2" });
  });

  it("v2: the tightest limit of the cgroup and its parents wins; 'max' is no limit", () => {
    const read = files({
      "/proc/self/mountinfo": V2_MOUNTS,
      "/proc/self/cgroup": "0::/kubepods/pod1/c1\n",
      "/sys/fs/cgroup/kubepods/pod1/c1/cpu.max": "max 100000\n",
      "/sys/fs/cgroup/kubepods/pod1/cpu.max": "50000 100000\n",
      "/sys/fs/cgroup/kubepods/cpu.max": "400000 100000\n",
    });
    expect(cgroupCpuQuota(read)).toEqual({ cpus: 0.5, source: "cgroup v2 cpu.max 50000/100000 → 1" });
  });

  it("v2 mounted at /sys/fs/cgroup/unified, found from mountinfo", () => {
    const read = files({
      "/proc/self/mountinfo": HYBRID_MOUNTS,
      "/proc/self/cgroup": "1:cpu:/\n0::/jail\n",
      "/sys/fs/cgroup/unified/jail/cpu.max": "300000 100000",
    });
    expect(cgroupCpuQuota(read)?.source).toBe("cgroup v2 cpu.max 300000/100000 → 3");
  });

  it("v1: cfs_quota_us over cfs_period_us under the cpu controller's mount, cpu alone or with cpuacct", () => {
    const alone = files({
      "/proc/self/mountinfo": HYBRID_MOUNTS,
      "/proc/self/cgroup": "4:memory:/other\n2:cpuacct:/\n1:cpu:/charm4ts-test\n0::/\n",
      "/sys/fs/cgroup/cpu/charm4ts-test/cpu.cfs_quota_us": "100000\n",
      "/sys/fs/cgroup/cpu/charm4ts-test/cpu.cfs_period_us": "100000\n",
      "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
      "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
    });
    expect(cgroupCpuQuota(alone)).toEqual({ cpus: 1, source: "cgroup v1 cpu.cfs_quota_us 100000/100000 → 1" });
    const together = files({
      "/proc/self/mountinfo": V1_MOUNTS,
      "/proc/self/cgroup": "5:memory:/user.slice\n3:cpu,cpuacct:/user.slice/job\n",
      "/sys/fs/cgroup/cpu,cpuacct/user.slice/job/cpu.cfs_quota_us": "-1",
      "/sys/fs/cgroup/cpu,cpuacct/user.slice/job/cpu.cfs_period_us": "100000",
      "/sys/fs/cgroup/cpu,cpuacct/user.slice/cpu.cfs_quota_us": "250000",
      "/sys/fs/cgroup/cpu,cpuacct/user.slice/cpu.cfs_period_us": "100000",
    });
    expect(cgroupCpuQuota(together)).toEqual({ cpus: 2.5, source: "cgroup v1 cpu.cfs_quota_us 250000/100000 → 3" });
  });

  it("v1 and v2 together: the tighter of the two", () => {
    const read = files({
      "/proc/self/mountinfo": HYBRID_MOUNTS,
      "/proc/self/cgroup": "1:cpu:/a\n0::/b\n",
      "/sys/fs/cgroup/cpu/a/cpu.cfs_quota_us": "300000",
      "/sys/fs/cgroup/cpu/a/cpu.cfs_period_us": "100000",
      "/sys/fs/cgroup/unified/b/cpu.max": "200000 100000",
    });
    expect(cgroupCpuQuota(read)?.source).toBe("cgroup v2 cpu.max 200000/100000 → 2");
  });

  it("no limit, no cgroup, or nothing readable: undefined", () => {
    expect(cgroupCpuQuota(files({}))).toBeUndefined();
    expect(cgroupCpuQuota(files({ "/proc/self/mountinfo": V2_MOUNTS, "/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cpu.max": "max 100000" }))).toBeUndefined();
    // A cgroup line whose hierarchy isn't mounted here.
    expect(cgroupCpuQuota(files({ "/proc/self/mountinfo": V1_MOUNTS.split("\n")[0]!, "/proc/self/cgroup": "3:cpu,cpuacct:/x\n0::/y\n" }))).toBeUndefined();
  });

  it("ignores malformed content anywhere, never throws", () => {
    const garbage = ["", "\0\xff\n", "max", "-5 -5", "NaN NaN", "1:2:3:4", "99999999999999999999999 1", ":::\n::\n", "0::", "- - - - - - - - -"];
    for (const g of garbage) {
      const read = files({
        "/proc/self/mountinfo": `${g}\n${V2_MOUNTS}${g}`,
        "/proc/self/cgroup": `${g}\n0::/a\n${g}`,
        "/sys/fs/cgroup/a/cpu.max": g,
        "/sys/fs/cgroup/cpu.max": "200000 100000",
      });
      expect(cgroupCpuQuota(read)?.source).toBe("cgroup v2 cpu.max 200000/100000 → 2");
      expect(() => cgroupCpuQuota(files({ "/proc/self/mountinfo": g, "/proc/self/cgroup": g }))).not.toThrow();
    }
  });
});

describe("choosePeCount", () => {
  const quota = (cpus: number, source = `quota ${cpus}`) => ({ cpus, source });

  it("CHARM4TS_PES first, as given (start-options checks it)", () => {
    expect(choosePeCount({ CHARM4TS_PES: "3" }, { affinity: 1, cores: 64, quota: quota(0.5) })).toEqual({ count: 3, source: "CHARM4TS_PES" });
    expect(choosePeCount({ CHARM4TS_PES: "x" }, { affinity: 1, cores: 1 }).count).toBeNaN();
    expect(choosePeCount({ CHARM4TS_PES: "" }, { affinity: 4, cores: 4 })).toEqual({ count: 4, source: "the number of cores (4)" });
  });

  it("the fewest of the affinity mask and the quota rounded up, at least 1", () => {
    expect(choosePeCount({}, { affinity: 64, cores: 64, quota: quota(1, "q") })).toEqual({ count: 1, source: "q" });
    expect(choosePeCount({}, { affinity: 64, cores: 64, quota: quota(1.5) }).count).toBe(2);
    expect(choosePeCount({}, { affinity: 64, cores: 64, quota: quota(0.01) }).count).toBe(1);
    expect(choosePeCount({}, { affinity: 2, cores: 64, quota: quota(8) })).toEqual({ count: 2, source: "CPU affinity: 2 of 64 cores" });
    expect(choosePeCount({}, { affinity: 2, cores: 64 })).toEqual({ count: 2, source: "CPU affinity: 2 of 64 cores" });
    expect(choosePeCount({}, { affinity: 8, cores: 8 })).toEqual({ count: 8, source: "the number of cores (8)" });
    // A tie names the quota: it is the limit someone set for this job.
    expect(choosePeCount({}, { affinity: 2, cores: 2, quota: quota(2, "q") })).toEqual({ count: 2, source: "q" });
    expect(choosePeCount({}, { affinity: 0, cores: 0 }).count).toBe(1);
  });
});

describe("defaultPeCount on this machine", () => {
  it("is a whole number of at least 1 with its source, and the kernel's count is the same", () => {
    const { count, source } = defaultPeCount({});
    expect(Number.isInteger(count) && count >= 1).toBe(true);
    expect(source).toMatch(/^(cgroup v[12] .* → \d+|CPU affinity: \d+ of \d+ cores|the number of cores \(\d+\))$/);
    expect(defaultPeCount({ CHARM4TS_PES: "5" })).toEqual({ count: 5, source: "CHARM4TS_PES" });
    expect(kernelPeCount()).toBe(defaultPeCount().count);
  });
});
