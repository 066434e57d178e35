// A port from the connection file that another process holds when the kernel starts: on a class's
// server, another frontend probing for its own free ports holds one for a moment. The kernel waits
// for such a port (kernel/server/bind-retry.ts), and says so when it stays taken.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { newConnection, type ConnectionInfo } from "../../kernel/protocol/connection.ts";
import { KernelClient, withTimeout } from "../../kernel/runner/client.ts";
import { kernelScript } from "../../kernel/runner/launch.ts";

/** Listens on 127.0.0.1:`port`, as another process holding it would. */
async function hold(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  onTestFinished(() => void server.close());
  return server;
}

/** Spawns the kernel on `connection`; `logged(re)` resolves once its stderr matches. */
function spawnKernel(connection: ConnectionInfo) {
  const dir = mkdtempSync(join(tmpdir(), "charm4ts-ports-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "kernel.json");
  writeFileSync(file, JSON.stringify(connection), { mode: 0o600 });
  const child = spawn(process.execPath, [kernelScript(), "-f", file], { stdio: ["ignore", "ignore", "pipe"] });
  onTestFinished(() => void child.kill("SIGKILL"));
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
    for (const l of listeners) l();
  });
  const logged = (re: RegExp) =>
    new Promise<string>((resolve) => {
      const check = () => re.test(stderr) && (listeners.delete(check), resolve(stderr));
      listeners.add(check);
      check();
    });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { logged, exited, stderr: () => stderr };
}

describe("ports held by another process when the kernel starts", () => {
  it("a port held for a moment: the kernel waits for it, then answers", async () => {
    const connection = await newConnection();
    const holders = [await hold(connection.shell_port), await hold(connection.hb_port)];
    const kernel = spawnKernel(connection);
    await withTimeout(kernel.logged(/is in use; trying again/), 20_000, "the kernel's notice that the shell port is in use");
    for (const h of holders) await new Promise((resolve) => h.close(resolve));
    const client = KernelClient.connect(connection);
    onTestFinished(() => client.close());
    await withTimeout(client.waitReady(), 20_000, "the kernel answering once the ports were free");
    const reply = await withTimeout(client.request("shell", "kernel_info_request", {}), 20_000, "kernel_info_reply");
    expect(reply.reply.content.status).toBe("ok");
    expect(kernel.stderr()).not.toContain("cannot start");
  });

  it("a port that stays taken: the kernel gives up, naming it", async () => {
    const connection = await newConnection();
    await hold(connection.control_port);
    const kernel = spawnKernel(connection);
    const code = await withTimeout(kernel.exited, 20_000, "the kernel giving up on a taken port");
    expect(code).not.toBe(0);
    expect(kernel.stderr()).toContain(`cannot start: `);
    expect(kernel.stderr()).toMatch(new RegExp(`${connection.control_port}.*in use|in use.*${connection.control_port}`, "i"));
  });
});
