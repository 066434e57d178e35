// A test's side of comms, as a frontend would do them over the real kernel's sockets: wait for a
// message, and send a comm message and collect what the kernel published under it up to its idle.
import { existsSync } from "node:fs";
import { expect } from "vitest";
import { withTimeout, type Exchange, type Msg } from "../../kernel/runner/client.ts";
import { kernelScript, launchKernel, type LaunchedKernel } from "../../kernel/runner/launch.ts";

/** A frontend's comm message and what the kernel published under it (busy … idle). */
export interface CommExchange {
  id: string;
  iopub: Msg[];
}

/** Comm helpers bound to one kernel. */
export function frontendComms(k: LaunchedKernel) {
  /** The first message (from now on) that `match` accepts; fails after `ms` naming `what` it waited for. */
  function next(what: string, match: (m: Msg) => boolean, ms = 10_000): Promise<Msg> {
    let stop: () => void = () => {};
    const found = new Promise<Msg>((resolve) => {
      stop = k.client.listen((m) => {
        if (match(m)) resolve(m);
      });
    });
    return withTimeout(found, ms, `waiting for ${what}`).finally(() => stop());
  }

  /** Sends a comm message on shell; resolves once its idle arrived, with its iopub messages. */
  async function comm(msgType: "comm_open" | "comm_msg" | "comm_close", content: Record<string, unknown>, buffers: Buffer[] = []): Promise<CommExchange> {
    const header = k.client.header(msgType);
    const iopub: Msg[] = [];
    const stop = k.client.listen((m) => {
      if (m.channel === "iopub" && m.parent_header.msg_id === header.msg_id) iopub.push(m);
    });
    const idle = next(`the idle of ${msgType} ${JSON.stringify(content).slice(0, 60)}`, (m) =>
      m.parent_header.msg_id === header.msg_id && m.header.msg_type === "status" && m.content.execution_state === "idle");
    k.client.sendRaw("shell", header, {}, content, { buffers });
    await idle.finally(() => stop());
    return { id: header.msg_id, iopub };
  }

  return { next, comm };
}

/** The iopub messages of one type in an exchange. */
export const ofType = (x: { iopub: Msg[] }, type: string): Msg[] => x.iopub.filter((m) => m.header.msg_type === type);

/** The data of an exchange's execute_result, if it had one. */
export const resultOf = (x: Exchange): Record<string, unknown> | undefined => ofType(x, "execute_result")[0]?.content.data as Record<string, unknown> | undefined;

/**
 * Runs a cell that must succeed without output on stderr (a type error would be there), but for
 * the notice of a type check a loaded machine gave up on (the language process runs at nice 19).
 */
export async function runClean(k: LaunchedKernel, code: string): Promise<Exchange> {
  const x = await k.client.execute(code);
  const stderr = ofType(x, "stream").filter((m) => m.content.name === "stderr").map((m) => String(m.content.text))
    .filter((text) => !/^TypeScript: checking this cell took over \d+ s/.test(text)).join("");
  expect(x.reply.content.status, JSON.stringify(x.reply.content)).toBe("ok");
  expect(stderr).toBe("");
  return x;
}

/** A built kernel launched for a suite, with its comm helpers (shut it down with `k.shutdown()`). */
export async function kernelWithComms(): Promise<{ k: LaunchedKernel; fe: ReturnType<typeof frontendComms> }> {
  if (!existsSync(kernelScript())) throw new Error(`${kernelScript()} is missing: run \`npm run build\``);
  const k = await launchKernel();
  return { k, fe: frontendComms(k) };
}
