// Binding a port from the connection file, tolerating a brief holder. The frontend chose the ports
// by binding and closing them; until this kernel binds, another process on the host may hold one
// for a moment — on a class's server, another frontend probing for its own free ports (eight
// `nbconvert --execute` started together hit it). Such a holder lets go within milliseconds; a
// port still taken after BIND_PATIENCE_MS is really someone else's, and the kernel says so.
import type * as zmq from "zeromq";
import { log } from "./log.ts";

/** How long a taken port is retried before the kernel gives up on it. */
export const BIND_PATIENCE_MS = 3000;

function inUse(e: unknown): boolean {
  return (e as { code?: string } | null)?.code === "EADDRINUSE" || /address already in use/i.test(String((e as Error)?.message ?? e));
}

/** A connection-file port still held by another process after BIND_PATIENCE_MS. */
export class PortInUseError extends Error {
  override name = "PortInUseError";
  constructor(endpoint: string) {
    super(`${endpoint} is in use by another process (still after ${BIND_PATIENCE_MS} ms): start the kernel again, and the frontend picks new ports`);
  }
}

/** Binds `socket` to `endpoint`, retrying while the address is in use, for up to BIND_PATIENCE_MS. */
export async function bindPatiently(socket: zmq.Socket, endpoint: string): Promise<void> {
  const deadline = Date.now() + BIND_PATIENCE_MS;
  for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
    try {
      await socket.bind(endpoint);
      return;
    } catch (e) {
      if (!inUse(e)) throw e;
      if (Date.now() + pause > deadline) throw new PortInUseError(endpoint);
      log(`${endpoint} is in use; trying again in ${pause} ms`);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
