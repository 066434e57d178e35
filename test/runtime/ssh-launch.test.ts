// The ssh launcher's pure parts: reading a nodelist, placing PEs on hosts, and the remote command
// (which must never carry the secret). The launcher itself runs for real in hosts.test.ts.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseHostList, parseNodelist } from "../../runtime/launcher/nodelist.ts";
import { hostOf, remoteShellArgs, sshSettings } from "../../runtime/launcher/ssh-launch.ts";
import { Rendezvous } from "../../runtime/startup/rendezvous.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("nodelist files", () => {
  it("reads Charm++'s format: the hosts of group main, per-host options and comments ignored", () => {
    const text = ["# cluster", "group main ++shell ssh", "host node1", "  host node2 ++cpus 4  # the big one", "group gpu", "host gpu1", "group main", "host node3", ""].join("\n");
    expect(parseNodelist(text)).toEqual(["node1", "node2", "node3"]);
    expect(parseNodelist(text, "gpu")).toEqual(["gpu1"]);
    expect(parseNodelist("host a\nhost b\n")).toEqual(["a", "b"]); // before any group: main
  });

  it("reads a plain list, one host a line", () => {
    expect(parseNodelist("alpha\n\nbeta # spare\nuser@gamma\n")).toEqual(["alpha", "beta", "user@gamma"]);
  });

  it("says what is wrong with a file it can't use", () => {
    expect(() => parseNodelist("group main\nhost\n", "main", "nodes.txt")).toThrow('nodes.txt: "host" names no host');
    expect(() => parseNodelist("group main\nhost a\nhots b\n")).toThrow('"hots b" is not a `group NAME` or `host NAME` line');
    expect(() => parseNodelist("group other\nhost a\n")).toThrow("group main lists no hosts (groups: main, other)");
    expect(() => parseNodelist("a b\n")).toThrow('"a b" is neither a host name nor');
    expect(() => parseHostList("a,,b")).toThrow("is not a comma-separated list");
  });
});

describe("starting PEs over ssh", () => {
  const settings = sshSettings({ CHARM4TS_HOSTS: "h1,h2,h3", CHARM4TS_REMOTE_SHELL: "ssh -p 2222", CHARM4TS_REMOTE_COMMAND: "npx charm4ts-pe", CHARM4TS_REMOTE_CWD: "/srv/my project" })!;

  it("places PE process i on host i mod the number of hosts", () => {
    expect([0, 1, 2, 3, 4].map((pe) => hostOf(settings, pe))).toEqual(["h1", "h2", "h3", "h1", "h2"]);
  });

  it("runs the PE command in the given directory with its rank, in batch mode, and no secret on the command line", () => {
    const args = remoteShellArgs(settings, 4, "tcp://10.0.0.1:5555");
    expect(args.slice(0, 7)).toEqual(["ssh", "-T", "-o", "BatchMode=yes", "-p", "2222", "h2"]);
    expect(args[7]).toMatch(/^cd '\/srv\/my project' && exec sh -c '.*' charm4ts-pe 4 npx charm4ts-pe --connect tcp:\/\/10\.0\.0\.1:5555$/);
    expect(args).toHaveLength(8);
    expect(remoteShellArgs(settings, 1, "tcp://10.0.0.1:5555", 3)[7]).toMatch(/ charm4ts-pe 1 npx charm4ts-pe --connect tcp:\/\/10\.0\.0\.1:5555 --pes 3$/);
  });

  it("by default runs this Node and this checkout's charm4ts-pe, from this directory", () => {
    const local = sshSettings({ CHARM4TS_HOSTS: "a" })!;
    expect(local.shell).toEqual(["ssh"]);
    expect(local.peCommand).toBe(`${process.execPath} ${root}bin/charm4ts-pe.mjs`);
    expect(local.cwd).toBe(process.cwd());
    expect(sshSettings({})).toBeUndefined();
  });

  it("charmrun refuses ++nodelist with ++hosts, and a flag without its value", async () => {
    const run = (...args: string[]) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ["bin/charmrun.mjs", ...args], { cwd: root }, (_err, _stdout, stderr) => resolve({ code: child.exitCode, stderr }));
    });
    const both = await run("++nodelist", "nodes", "++hosts", "a", "examples/fib.ts");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give ++nodelist or ++hosts, not both");
    const missing = await run("++hosts");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("++hosts needs a value");
    const badList = await run("++nodelist", "/nonexistent/nodes", "examples/fib.ts");
    expect(badList.code).toBe(2);
    expect(badList.stderr).toContain("/nonexistent/nodes");
  });

  it("charm4ts-pe --secret-stdin takes the secret from stdin's first line (a PE started by hand over ssh)", async () => {
    const rendezvous = await Rendezvous.bind("127.0.0.1", "s3cret");
    const child = execFile(process.execPath, ["bin/charm4ts-pe.mjs", "--connect", rendezvous.address, "--secret-stdin"], { cwd: root }, () => undefined);
    try {
      const joined = rendezvous.gather(1);
      child.stdin!.end("s3cret\n");
      const [joiner] = await joined;
      expect(joiner!.pid).toBe(child.pid);
    } finally {
      child.kill("SIGKILL");
      rendezvous.close();
    }
  });
});
