// The real kernel process over real sockets: protocol relations that every frontend relies on.
import { existsSync } from "node:fs";
import fc from "fast-check";
import * as zmq from "zeromq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpoint } from "../../kernel/protocol/connection.ts";
import { Signer } from "../../kernel/protocol/signer.ts";
import { encodeFrames } from "../../kernel/protocol/wire.ts";
import type { Exchange, Msg } from "../../kernel/runner/client.ts";
import { kernelScript, launchKernel, type LaunchedKernel } from "../../kernel/runner/launch.ts";

let k: LaunchedKernel;
const seen: Msg[] = [];

beforeAll(async () => {
  if (!existsSync(kernelScript())) throw new Error(`${kernelScript()} is missing: run \`npm run build\``);
  k = await launchKernel();
  k.client.listen((m) => seen.push(m));
});

afterAll(async () => {
  await k?.shutdown();
});

/** Asserts the relations every request must satisfy, and returns the outputs between busy and idle. */
function checkRelations(x: Exchange): Msg[] {
  expect(x.reply.parent_header.msg_id).toBe(x.request.msg_id);
  expect(x.reply.header.msg_type).toBe(x.request.msg_type.replace(/_request$/, "_reply"));
  expect(x.reply.content.status).toBeDefined();
  const types = x.iopub.map((m) => `${m.header.msg_type}:${m.content.execution_state ?? ""}`);
  expect(types[0]).toBe("status:busy");
  expect(types.at(-1)).toBe("status:idle");
  expect(types.filter((t) => t.startsWith("status:"))).toEqual(["status:busy", "status:idle"]);
  for (const m of [x.reply, ...x.iopub]) {
    expect(m.parent_header.msg_id).toBe(x.request.msg_id);
    expect(m.header.session).not.toBe(k.client.session);
    expect(new Date(m.header.date).toISOString()).toBe(m.header.date);
  }
  return x.iopub.slice(1, -1);
}

describe("protocol relations", () => {
  it("kernel_info: reply typed by its request, kernel session constant, busy … idle", async () => {
    const a = await k.client.request("shell", "kernel_info_request", {});
    const b = await k.client.request("control", "kernel_info_request", {});
    checkRelations(a);
    checkRelations(b);
    expect(a.reply.header.session).toBe(b.reply.header.session);
    expect(a.reply.content).toMatchObject({ status: "ok", protocol_version: "5.3", implementation: "charm4ts" });
  });

  it("execute: execute_input, outputs and execute_result all before idle, nothing after", async () => {
    const x = await k.client.execute('console.log("one"); console.error("two"); 6 * 7');
    const outs = checkRelations(x);
    expect(outs[0]).toMatchObject({ header: { msg_type: "execute_input" }, content: { code: 'console.log("one"); console.error("two"); 6 * 7' } });
    const count = x.reply.content.execution_count;
    expect(outs[0]!.content.execution_count).toBe(count);
    expect(outs.map((m) => m.header.msg_type)).toEqual(["execute_input", "stream", "stream", "execute_result"]);
    expect(outs[3]!.content).toMatchObject({ execution_count: count, data: { "text/plain": "42" } });
    // A later request proves nothing of the first one arrived after its idle.
    await k.client.request("shell", "kernel_info_request", {});
    const late = seen.filter((m) => m.parent_header.msg_id === x.request.msg_id);
    expect(late).toHaveLength(x.iopub.length + 1);
  });

  it("an error is one iopub error and an error reply; stderr stays empty", async () => {
    const x = await k.client.execute('throw new TypeError("bad thing")');
    const outs = checkRelations(x);
    expect(outs.map((m) => m.header.msg_type)).toEqual(["execute_input", "error"]);
    expect(outs[1]!.content).toMatchObject({ ename: "TypeError", evalue: "bad thing" });
    expect(x.reply.content).toMatchObject({ status: "error", ename: "TypeError", evalue: "bad thing" });
    expect(Array.isArray(x.reply.content.traceback)).toBe(true);
    // The traceback names the cell by its execution count.
    expect((x.reply.content.traceback as string[]).join("\n")).toContain(`cell-${x.reply.content.execution_count}.ts`);
  });

  it("stop_on_error aborts the executes queued behind a failure, and only those", async () => {
    // The failing cell waits for input; meanwhile two executes queue up behind it. A control
    // round trip lets the kernel's thread read them before the cell goes on to fail.
    let queued: Promise<Exchange>[] = [];
    k.client.onInput = async () => {
      queued = [k.client.execute("1"), k.client.execute("2")];
      await k.client.request("control", "kernel_info_request", {});
      return "go";
    };
    const f = await k.client.execute('await input("go?"); throw new Error("first")', { allow_stdin: true });
    expect(f.reply.content.status).toBe("error");
    const rest = await Promise.all(queued);
    expect(rest.map((r) => r.reply.content.status)).toEqual(["abort", "abort"]);
    for (const r of rest) {
      // Aborted requests still get busy … idle and publish nothing else.
      expect(checkRelations(r)).toEqual([]);
    }
    // Sent after the error reply arrived: runs normally, no timer keeps aborting.
    const after = await k.client.execute("3");
    expect(after.reply.content.status).toBe("ok");
  });

  it("stop_on_error false lets queued executes run", async () => {
    const failing = k.client.execute('throw new Error("tolerated")', { stop_on_error: false });
    const next = k.client.execute("40 + 2");
    expect((await failing).reply.content.status).toBe("error");
    expect((await next).reply.content.status).toBe("ok");
  });

  it("silent executes publish nothing but busy and idle", async () => {
    const x = await k.client.execute('console.log("quiet"); 1', { silent: true });
    expect(checkRelations(x)).toEqual([]);
    expect(x.reply.content.status).toBe("ok");
  });

  it("input() sends input_request on stdin to the requesting client and returns the answer", async () => {
    const prompts: string[] = [];
    k.client.onInput = (prompt, password) => (prompts.push(`${prompt}|${password}`), "Ada");
    const x = await k.client.execute('const who = await input("name? "); `hi ${who}`', { allow_stdin: true });
    checkRelations(x);
    expect(prompts).toEqual(["name? |false"]);
    const request = seen.find((m) => m.channel === "stdin" && m.parent_header.msg_id === x.request.msg_id);
    expect(request?.header.msg_type).toBe("input_request");
    expect(x.iopub.find((m) => m.header.msg_type === "execute_result")?.content.data).toMatchObject({ "text/plain": "'hi Ada'" });
  });

  it("input() fails at once when the request doesn't allow stdin", async () => {
    const x = await k.client.execute('await input("never asked")', { allow_stdin: false });
    expect(x.reply.content.status).toBe("error");
    expect(seen.some((m) => m.channel === "stdin" && m.parent_header.msg_id === x.request.msg_id)).toBe(false);
  });

  it("user_expressions are evaluated after the cell; history records what ran", async () => {
    const x = await k.client.execute("const ue = 20;", { user_expressions: { twice: "ue * 2", bad: "nope.nope" } });
    expect(x.reply.content.user_expressions).toMatchObject({
      twice: { status: "ok", data: { "text/plain": "40" } },
      bad: { status: "error", ename: "ReferenceError" },
    });
    const h = await k.client.request("shell", "history_request", { hist_access_type: "tail", n: 1, output: false, raw: true });
    checkRelations(h);
    expect(h.reply.content.history).toEqual([[1, x.reply.content.execution_count, "const ue = 20;"]]);
  });

  it("unknown requests get busy/idle and an error reply of the matching type", async () => {
    const x = await k.client.request("shell", "frobnicate_request", {});
    checkRelations(x);
    expect(x.reply.content.status).toBe("error");
  });

  it("comm_info lists no comms; comm_open for an unknown target is closed on iopub", async () => {
    const info = await k.client.request("shell", "comm_info_request", {});
    checkRelations(info);
    expect(info.reply.content).toEqual({ status: "ok", comms: {} });
    const closed = new Promise<Msg>((resolve) => {
      const stop = k.client.listen((m) => {
        if (m.header.msg_type === "comm_close") {
          stop();
          resolve(m);
        }
      });
    });
    k.client.sendRaw("shell", k.client.header("comm_open"), {}, { comm_id: "c-1", target_name: "nobody", data: {} });
    expect((await closed).content).toEqual({ comm_id: "c-1", data: {} });
  });
});

describe("malformed requests", () => {
  it.each([
    ["history_request", { hist_access_type: "search", pattern: 42 }, "content.pattern must be a string"],
    ["complete_request", { code: 42, cursor_pos: 0 }, "content.code must be a string"],
    ["inspect_request", { code: "Math", cursor_pos: -1, detail_level: 0 }, "content.cursor_pos must be an integer from 0 to 4"],
    ["inspect_request", { code: "Math", cursor_pos: "end", detail_level: 0 }, "content.cursor_pos must be an integer"],
    ["is_complete_request", { code: ["x"] }, "content.code must be a string"],
  ])("%s with bad content: an error reply of its type, inside busy … idle", async (msgType, content, evalue) => {
    const x = await k.client.request("shell", msgType, content);
    checkRelations(x);
    expect(x.reply.content).toMatchObject({ status: "error", ename: "InvalidRequest", traceback: [] });
    expect(x.reply.content.evalue).toContain(evalue);
  });

  it("an execute with bad content is an error reply that carries the execution count", async () => {
    const x = await k.client.request("control", "execute_request", { code: { not: "code" } });
    checkRelations(x);
    expect(x.reply.content).toMatchObject({ status: "error", ename: "InvalidRequest" });
    expect(typeof x.reply.content.execution_count).toBe("number");
  });

  it("history search with a pathological glob answers, and the kernel keeps serving", async () => {
    await k.client.execute(`"${"a".repeat(5000)}"`);
    const pattern = `${"*a".repeat(18)}*b`;
    const h = await k.client.request("shell", "history_request", { hist_access_type: "search", pattern, n: null, output: false, raw: true });
    checkRelations(h);
    expect(h.reply.content).toEqual({ status: "ok", history: [] });
    const found = await k.client.request("shell", "history_request", { hist_access_type: "search", pattern: `"a*a"`, raw: true });
    expect(found.reply.content.history).toHaveLength(1);
  });
});

describe("authentication", () => {
  it("drops forged and replayed messages, logs without the expected signature, keeps serving", async () => {
    const dealer = new zmq.Dealer({ linger: 0 });
    dealer.connect(endpoint(k.connection, "shell"));
    const header = k.client.header("kernel_info_request");
    const message = { identities: [], header, parent_header: {}, metadata: {}, content: {} };
    const forged = encodeFrames(message, new Signer("not-the-key"));
    const signer = new Signer(k.connection.key);
    const good = encodeFrames({ ...message, header: { ...header, msg_id: `${header.msg_id}-good` } }, signer);
    const next = encodeFrames({ ...message, header: { ...header, msg_id: `${header.msg_id}-next` } }, signer);
    // One connection keeps these in order: forged, good (answered), replay of good, next (answered).
    await dealer.send(forged);
    await dealer.send(good);
    const replies = [JSON.parse((await dealer.receive())[3]!.toString()).msg_id];
    await dealer.send(good);
    await dealer.send(next);
    replies.push(JSON.parse((await dealer.receive())[3]!.toString()).msg_id);
    expect(replies).toEqual([`${header.msg_id}-good`, `${header.msg_id}-next`]);
    // iopub is ordered: once this request's idle arrived, everything before it had too.
    await k.client.request("shell", "kernel_info_request", {});
    expect(seen.filter((m) => m.parent_header.msg_id === header.msg_id)).toEqual([]);
    expect(seen.filter((m) => m.parent_header.msg_id === `${header.msg_id}-good`)).toHaveLength(2);
    const log = await k.waitForStderr(/invalid signature[\s\S]*replayed signature/);
    expect(log).not.toContain(new Signer(k.connection.key).sign(forged.slice(2, 6)));
    dealer.close();
  });

  it("survives arbitrary frames on shell, control and stdin, then answers as before", async () => {
    const sockets = (["shell", "control", "stdin"] as const).map((ch) => {
      const d = new zmq.Dealer({ linger: 0 });
      d.connect(endpoint(k.connection, ch));
      return d;
    });
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
      fc.constant(Buffer.from("<IDS|MSG>")),
      fc.json().map((j) => Buffer.from(j)),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat(2), fc.array(frame, { minLength: 1, maxLength: 8 }), async (i, frames) => {
        await sockets[i]!.send(frames);
      }),
      { numRuns: 300 },
    );
    // Each channel's garbage was read before this request on the same connection.
    const last = encodeFrames(
      { identities: [], header: k.client.header("kernel_info_request"), parent_header: {}, metadata: {}, content: {} },
      new Signer(k.connection.key),
    );
    await sockets[0]!.send(last);
    const [, , header] = await sockets[0]!.receive();
    expect(JSON.parse(header!.toString()).msg_type).toBe("kernel_info_reply");
    expect((await k.client.execute("6 * 7")).reply.content.status).toBe("ok");
    expect(k.process.exitCode).toBeNull();
    for (const d of sockets) d.close();
  });
});
