// A test's side of comms, as a frontend would do them over the real kernel's sockets: wait for a
// message, and send a comm message and collect what the kernel published under it up to its idle.
import { withTimeout, type Msg } from "../../kernel/runner/client.ts";
import type { LaunchedKernel } from "../../kernel/runner/launch.ts";

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
