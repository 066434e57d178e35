// What the kernel checks before it starts: a connection file whose key isn't a string, or a bad
// message size limit, stops it with one clear line and a non-zero exit, instead of starting with
// authentication silently off; an empty key starts it, saying once that messages are unsigned.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { newConnection } from "../../kernel/protocol/connection.ts";
import { withTimeout } from "../../kernel/runner/client.ts";
import { kernelScript, launchKernel } from "../../kernel/runner/launch.ts";

/** Spawns the kernel on a connection file with `patch` applied; resolves with its exit and stderr. */
async function startWith(patch: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "charm4ts-conn-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "kernel.json");
  writeFileSync(file, JSON.stringify({ ...(await newConnection()), ...patch }), { mode: 0o600 });
  const child = spawn(process.execPath, [kernelScript(), "-f", file], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  // A kernel that wrongly started would run until killed: the bound turns that into a failure.
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  onTestFinished(() => void child.kill("SIGKILL"));
  const code = await withTimeout(exited, 20_000, "the kernel's refusal");
  return { code, stderr };
}

describe("connection file key", () => {
  it.each([
    ["a number", 12345, "not number"],
    ["null", null, "not null"],
    ["an object", { secret: "x" }, "not object"],
  ])("a key that is %s: refuses to start, naming the field, exit 2", async (_, key, got) => {
    const { code, stderr } = await startWith({ key });
    expect(code).toBe(2);
    expect(stderr).toContain("cannot start:");
    expect(stderr).toContain(`key must be a string (the HMAC key, or "" for unsigned messages), ${got}`);
    // One line, not a stack trace.
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });

  it("an empty key starts, and says once that messages are not signed", async () => {
    const k = await launchKernel({ key: "" });
    onTestFinished(() => k.shutdown());
    expect((await k.client.execute("1 + 1")).reply.content.status).toBe("ok");
    await k.client.request("shell", "kernel_info_request", {});
    expect(k.stderr().match(/empty key: messages are not signed/g)).toHaveLength(1);
  });

  it("a signed kernel says nothing about signing", async () => {
    const k = await launchKernel();
    onTestFinished(() => k.shutdown());
    expect(k.stderr()).not.toContain("not signed");
  });
});

describe("CHARM4TS_MAX_MESSAGE_MB", () => {
  it.each(["0", "-3", "lots"])("%j: refuses to start, naming the variable", async (value) => {
    const { code, stderr } = await startWith({}, { CHARM4TS_MAX_MESSAGE_MB: value });
    expect(code).toBe(2);
    expect(stderr).toContain(`cannot start: CHARM4TS_MAX_MESSAGE_MB must be a positive number of MiB (default 256), not "${value}"`);
  });
});
