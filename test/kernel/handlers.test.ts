// The pure handlers, driven without sockets or worker threads: what each request publishes and
// what it replies.
import { describe, expect, it } from "vitest";
import { dispatch } from "../../kernel/handlers/dispatch.ts";
import { parseHelp } from "../../kernel/handlers/help.ts";
import { InvalidRequest } from "../../kernel/handlers/content.ts";
import { readHistoryRequest } from "../../kernel/handlers/history.ts";
import type { RequestScope } from "../../kernel/handlers/context.ts";
import type { Incoming, IopubExtra, IopubType, KnownType, RequestContent } from "../../kernel/protocol/messages.ts";
import { CommTable } from "../../kernel/handlers/comms.ts";
import { publishOutput } from "../../kernel/handlers/execute.ts";
import { errorReply, iopub, newKernelSession, reply, replyType, unknownReply } from "../../kernel/protocol/reply.ts";
import { fakeState } from "./fake-executor.ts";

function request<K extends KnownType>(type: K, content: RequestContent[K]): Incoming {
  return {
    type,
    identities: [Buffer.from("frontend")],
    header: { msg_id: `id-${type}`, session: "client", username: "u", date: "", msg_type: type, version: "5.3" },
    parent_header: {},
    metadata: {},
    content,
    buffers: [],
  } as Incoming;
}

function recorder() {
  const published: { type: IopubType; content: Record<string, unknown>; extra?: IopubExtra }[] = [];
  const inputs: string[] = [];
  const logged: string[] = [];
  const scope: RequestScope = {
    publish: (type, content, extra) =>
      void published.push({ type, content: content as Record<string, unknown>, ...(extra ? { extra } : {}) }),
    input: async (req) => (inputs.push(req.prompt), "typed"),
    log: (line) => void logged.push(line),
  };
  return { published, inputs, logged, scope };
}

describe("execute", () => {
  it("publishes execute_input, outputs in order, then execute_result with the count", async () => {
    const state = fakeState({
      "cell": ({ output }) => {
        output({ kind: "stream", name: "stdout", text: "hi\n" });
        output({ kind: "display", data: { "text/html": "<b>x</b>" }, metadata: {}, transient: { display_id: "d" }, update: false });
        output({ kind: "display", data: { "text/html": "<b>y</b>" }, metadata: {}, transient: { display_id: "d" }, update: true });
        output({ kind: "clear", wait: true });
        return { status: "ok", value: { data: { "text/plain": "42" }, metadata: {} } };
      },
    });
    const { published, scope } = recorder();
    const answer = await dispatch(state, request("execute_request", { code: "cell" }), scope);
    expect(answer).toEqual({
      type: "execute_request",
      content: { status: "ok", execution_count: 1, payload: [], user_expressions: {} },
    });
    expect(published.map((p) => p.type)).toEqual([
      "execute_input",
      "stream",
      "display_data",
      "update_display_data",
      "clear_output",
      "execute_result",
    ]);
    expect(published[0]!.content).toEqual({ code: "cell", execution_count: 1 });
    expect(published[2]!.content.transient).toEqual({ display_id: "d" });
    expect(published[5]!.content).toEqual({ execution_count: 1, data: { "text/plain": "42" }, metadata: {} });
  });

  it("an error publishes exactly one iopub error and replies with its shape", async () => {
    const tb = ["Error: boom", "    at <cell>:1:7"];
    const state = fakeState({ bad: () => ({ status: "error", ename: "Error", evalue: "boom", traceback: tb }) });
    const { published, scope } = recorder();
    const answer = await dispatch(state, request("execute_request", { code: "bad" }), scope);
    expect(answer?.content).toMatchObject({ status: "error", ename: "Error", evalue: "boom", traceback: tb, execution_count: 1 });
    expect(published.filter((p) => p.type === "error")).toEqual([
      { type: "error", content: { ename: "Error", evalue: "boom", traceback: tb } },
    ]);
    expect(published.some((p) => p.type === "stream")).toBe(false);
  });

  it("silent publishes nothing and doesn't count or store history", async () => {
    const state = fakeState({ s: ({ output }) => (output({ kind: "stream", name: "stdout", text: "x" }), { status: "ok", value: { data: { "text/plain": "1" }, metadata: {} } }) });
    const { published, scope } = recorder();
    const answer = await dispatch(state, request("execute_request", { code: "s", silent: true }), scope);
    expect(published).toEqual([]);
    expect(answer?.content).toMatchObject({ status: "ok", execution_count: 0 });
    expect(state.history.query({ hist_access_type: "tail", n: 10 })).toEqual([]);
  });

  it("store_history false neither counts nor records", async () => {
    const state = fakeState();
    const { scope } = recorder();
    await dispatch(state, request("execute_request", { code: "a" }), scope);
    await dispatch(state, request("execute_request", { code: "b", store_history: false }), scope);
    await dispatch(state, request("execute_request", { code: "c" }), scope);
    expect(state.executionCount).toBe(2);
    expect(state.history.query({ hist_access_type: "tail", n: 10 })).toEqual([
      [1, 1, "a"],
      [1, 2, "c"],
    ]);
  });

  it("evaluates user_expressions after a successful cell, errors included", async () => {
    const state = fakeState({
      "x + 1": () => ({ status: "ok", value: { data: { "text/plain": "2" }, metadata: {} } }),
      "nope": () => ({ status: "error", ename: "ReferenceError", evalue: "nope is not defined", traceback: [] }),
    });
    const { scope } = recorder();
    const answer = await dispatch(state, request("execute_request", { code: "", user_expressions: { a: "x + 1", b: "nope" } }), scope);
    expect(answer?.content).toMatchObject({
      status: "ok",
      user_expressions: {
        a: { status: "ok", data: { "text/plain": "2" }, metadata: {} },
        b: { status: "error", ename: "ReferenceError", evalue: "nope is not defined", traceback: [] },
      },
    });
  });

  it("input goes to the frontend when allowed and fails at once when not", async () => {
    let seen = "";
    const state = fakeState({
      ask: async ({ input }) => {
        try {
          seen = await input({ prompt: "name? ", password: false });
        } catch (e) {
          seen = `refused: ${(e as Error).name}`;
        }
        return { status: "ok" };
      },
    });
    const r = recorder();
    await dispatch(state, request("execute_request", { code: "ask", allow_stdin: true }), r.scope);
    expect([seen, r.inputs]).toEqual(["typed", ["name? "]]);
    await dispatch(state, request("execute_request", { code: "ask", allow_stdin: false }), r.scope);
    expect(seen).toBe("refused: StdinNotImplementedError");
  });
});

describe("help cells", () => {
  it("parses `name?` and `a.b??`, and nothing that is code", () => {
    expect(parseHelp("Math.max?")).toEqual({ expression: "Math.max", detailLevel: 0 });
    expect(parseHelp("  console . log ?? ")).toEqual({ expression: "console.log", detailLevel: 1 });
    for (const code of ["a ? b : c", "x?.y", "f()?", "1?", "a?b", "Math.max"]) expect(parseHelp(code)).toBeUndefined();
  });

  it("`name?` pages the inspection instead of running; unknown names say so", async () => {
    const state = fakeState();
    const r = recorder();
    const found = await dispatch(state, request("execute_request", { code: "console?" }), r.scope);
    expect(found?.content).toMatchObject({
      status: "ok",
      execution_count: 1,
      payload: [{ source: "page", data: { "text/plain": "var console: Console" }, start: 0 }],
    });
    expect(state.ran).toEqual([]);
    const missing = await dispatch(state, request("execute_request", { code: "zzz?" }), r.scope);
    expect(missing?.content).toMatchObject({ status: "ok", payload: [] });
    expect(r.published.at(-1)).toEqual({ type: "stream", content: { name: "stdout", text: "No documentation found for `zzz`.\n" } });
  });
});

describe("introspection and info", () => {
  it("kernel_info names the language, protocol and implementation", async () => {
    const answer = await dispatch(fakeState(), request("kernel_info_request", {}), recorder().scope);
    expect(answer?.content).toMatchObject({
      status: "ok",
      protocol_version: "5.3",
      implementation: "charm4ts",
      language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" },
    });
    expect((answer?.content as { banner: string }).banner).toMatch(/charm4ts/);
    expect((answer?.content as { help_links: unknown[] }).help_links.length).toBeGreaterThan(0);
  });

  it("is_complete sends indent only with incomplete", async () => {
    const state = fakeState();
    const ask = async (code: string) => (await dispatch(state, request("is_complete_request", { code }), recorder().scope))?.content;
    expect(await ask("if (x) {")).toEqual({ status: "incomplete", indent: "  " });
    expect(await ask("f(]")).toEqual({ status: "invalid" });
    expect(await ask("1 + 1")).toEqual({ status: "complete" });
  });

  it("complete defaults cursor_pos to the end in code points", async () => {
    const answer = await dispatch(fakeState(), request("complete_request", { code: "'😀'; con" }), recorder().scope);
    // 8 code points ('😀' is one), though 9 UTF-16 units.
    expect(answer?.content).toMatchObject({ status: "ok", matches: ["console"], cursor_start: 5, cursor_end: 8 });
  });

  it("inspect replies found with data, or not found with empty data", async () => {
    const state = fakeState();
    const found = await dispatch(state, request("inspect_request", { code: "console", cursor_pos: 3 }), recorder().scope);
    expect(found?.content).toEqual({ status: "ok", found: true, data: { "text/plain": "var console: Console" }, metadata: {} });
    const missing = await dispatch(state, request("inspect_request", { code: "zzz" }), recorder().scope);
    expect(missing?.content).toEqual({ status: "ok", found: false, data: {}, metadata: {} });
  });

  it("comm_info lists no comms; comm_open for an unknown target is closed on iopub", async () => {
    const r = recorder();
    const info = await dispatch(fakeState(), request("comm_info_request", {}), r.scope);
    expect(info?.content).toEqual({ status: "ok", comms: {} });
    const open = await dispatch(fakeState(), request("comm_open", { comm_id: "c1", target_name: "nobody" }), r.scope);
    expect(open).toBeUndefined();
    expect(r.published).toEqual([{ type: "comm_close", content: { comm_id: "c1", data: {} } }]);
    expect(r.logged.join("\n")).toContain('"nobody", a target no cell registered');
  });

  it("interrupt_request interrupts the executor; shutdown echoes restart", async () => {
    const state = fakeState();
    expect((await dispatch(state, request("interrupt_request", {}), recorder().scope))?.content).toEqual({ status: "ok" });
    expect(state.interrupts).toBe(1);
    const s = await dispatch(state, request("shutdown_request", { restart: true }), recorder().scope);
    expect(s?.content).toEqual({ status: "ok", restart: true });
  });
});

describe("history", () => {
  async function withHistory(codes: string[]) {
    const state = fakeState(Object.fromEntries(codes.map((c) => [c, () => ({ status: "ok" as const, value: { data: { "text/plain": `=${c}` }, metadata: {} } })])));
    for (const code of codes) await dispatch(state, request("execute_request", { code }), recorder().scope);
    return state.history;
  }

  it("tail returns the last n with outputs on request", async () => {
    const h = await withHistory(["a", "b", "c"]);
    expect(h.query({ hist_access_type: "tail", n: 2 })).toEqual([[1, 2, "b"], [1, 3, "c"]]);
    expect(h.query({ hist_access_type: "tail", n: 1, output: true })).toEqual([[1, 3, ["c", "=c"]]]);
  });

  it("range selects [start, stop) of the current session", async () => {
    const h = await withHistory(["a", "b", "c"]);
    expect(h.query({ hist_access_type: "range", session: 1, start: 2, stop: 3 })).toEqual([[1, 2, "b"]]);
    expect(h.query({ hist_access_type: "range", session: 0, start: 1 })).toHaveLength(3);
    expect(h.query({ hist_access_type: "range", session: 7, start: 1 })).toEqual([]);
  });

  it("search matches globs, with unique and n", async () => {
    const h = await withHistory(["1+2", "1+2", "1*2", "x"]);
    expect(h.query({ hist_access_type: "search", pattern: "1?2" })).toHaveLength(3);
    expect(h.query({ hist_access_type: "search", pattern: "1?2", unique: true })).toEqual([[1, 2, "1+2"], [1, 3, "1*2"]]);
    expect(h.query({ hist_access_type: "search", pattern: "1*", n: 1 })).toEqual([[1, 3, "1*2"]]);
  });

  it("reads a request's fields, with null as absent, and refuses ones of the wrong type", () => {
    expect(readHistoryRequest({ hist_access_type: "search", pattern: null, n: null })).toMatchObject({ pattern: "*", n: undefined });
    expect(() => readHistoryRequest({ hist_access_type: "search", pattern: 42 })).toThrow(
      new InvalidRequest("content.pattern must be a string, not number 42"),
    );
    expect(() => readHistoryRequest({ hist_access_type: "tail", n: "3" })).toThrow(/content\.n must be an integer/);
    expect(() => readHistoryRequest({ hist_access_type: "sideways" })).toThrow(/content\.hist_access_type must be one of "range", "tail", "search"/);
    // What was sent is quoted only in part: it goes back in the reply and into the kernel's log.
    expect(() => readHistoryRequest({ hist_access_type: "tail", n: "9".repeat(1e6) })).toThrow(`not "${"9".repeat(39)}…`);
  });

  it("dispatch rejects malformed content with InvalidRequest (the server answers it)", async () => {
    const state = fakeState();
    const { scope } = recorder();
    const history = request("history_request", { hist_access_type: "search", pattern: 7 } as never);
    await expect(dispatch(state, history, scope)).rejects.toBeInstanceOf(InvalidRequest);
    await expect(dispatch(state, request("complete_request", { code: 42 } as never), scope)).rejects.toThrow(/content\.code must be a string/);
    const far = request("inspect_request", { code: "abc", cursor_pos: 4 });
    await expect(dispatch(state, far, scope)).rejects.toThrow("content.cursor_pos must be an integer from 0 to 3, not number 4");
    // The cursor counts code points: one emoji is one position.
    expect((await dispatch(state, request("complete_request", { code: "😀x", cursor_pos: 2 }), scope))?.content).toMatchObject({ cursor_end: 2 });
  });
});

describe("reply helper", () => {
  it("derives the reply type, carries the kernel session and the request as parent", () => {
    const ks = newKernelSession();
    const req = request("comm_info_request", {});
    const out = reply(ks, req as Incoming & { type: "comm_info_request" }, { status: "ok", comms: {} });
    expect(out.header.msg_type).toBe("comm_info_reply");
    expect(out.header.session).toBe(ks.session);
    expect(out.parent_header).toBe(req.header);
    expect(out.identities).toEqual(req.identities);
    expect(new Date(out.header.date).toISOString()).toBe(out.header.date);
    expect(replyType("execute_request")).toBe("execute_reply");
  });

  it("answers unknown requests with a typed error reply, and nothing for non-requests", () => {
    const ks = newKernelSession();
    const odd = { ...request("kernel_info_request", {}), type: "unknown" } as Incoming;
    odd.header = { ...odd.header, msg_type: "frobnicate_request" };
    expect(unknownReply(ks, odd)?.header.msg_type).toBe("frobnicate_reply");
    odd.header = { ...odd.header, msg_type: "frobnicate" };
    expect(unknownReply(ks, odd)).toBeUndefined();
  });

  it("builds error replies for any request, with extra fields, and none for non-requests", () => {
    const ks = newKernelSession();
    const req = request("is_complete_request", { code: "" });
    const out = errorReply(ks, req, { ename: "InvalidRequest", evalue: "bad", traceback: [] }, { execution_count: 3 });
    expect(out?.header.msg_type).toBe("is_complete_reply");
    expect(out?.parent_header).toBe(req.header);
    expect(out?.content).toEqual({ status: "error", ename: "InvalidRequest", evalue: "bad", traceback: [], execution_count: 3 });
    expect(errorReply(ks, request("comm_msg", { comm_id: "c" }), { ename: "E", evalue: "", traceback: [] })).toBeUndefined();
  });

  it("iopub messages without a parent have an empty parent header", () => {
    const m = iopub(newKernelSession(), undefined, "status", { execution_state: "starting" });
    expect(m.parent_header).toEqual({});
  });
});

describe("comms", () => {
  /** A fake executor whose cells registered `targets`; comms opened through it are tracked. */
  function withTargets(...targets: string[]) {
    const open = new Set<string>();
    return fakeState({}, (m) => {
      const id = m.content.comm_id;
      if (m.type === "comm_open") {
        if (!targets.includes(m.content.target_name!)) return { kind: "unknown-target" };
        open.add(id);
        return { kind: "handled", open: true };
      }
      if (!open.has(id)) return { kind: "unknown-comm" };
      if (m.type === "comm_close") open.delete(id);
      return { kind: "handled", open: open.has(id) };
    });
  }

  function commRequest(type: "comm_open" | "comm_msg" | "comm_close", content: Record<string, unknown>, buffers: Buffer[] = []): Incoming {
    return { ...request(type, content as never), metadata: { m: 1 }, buffers } as Incoming;
  }

  it("a frontend's comm reaches the cells' handlers with data, metadata and buffers; comm_info lists it until closed", async () => {
    const state = withTargets("echo", "other");
    const r = recorder();
    await dispatch(state, commRequest("comm_open", { comm_id: "a", target_name: "echo", data: { x: 1 } }), r.scope);
    await dispatch(state, commRequest("comm_open", { comm_id: "b", target_name: "other" }), r.scope);
    await dispatch(state, commRequest("comm_msg", { comm_id: "a", data: { n: 2 } }, [Buffer.from([1, 2, 3])]), r.scope);
    expect(state.delivered.map((d) => [d.type, d.content])).toEqual([
      ["comm_open", { comm_id: "a", target_name: "echo", data: { x: 1 } }],
      ["comm_open", { comm_id: "b", target_name: "other", data: {} }],
      ["comm_msg", { comm_id: "a", data: { n: 2 } }],
    ]);
    expect(state.delivered[2]!.metadata).toEqual({ m: 1 });
    expect([...state.delivered[2]!.buffers[0]!]).toEqual([1, 2, 3]);
    const all = await dispatch(state, request("comm_info_request", {}), r.scope);
    expect(all?.content).toEqual({ status: "ok", comms: { a: { target_name: "echo" }, b: { target_name: "other" } } });
    const echo = await dispatch(state, request("comm_info_request", { target_name: "echo" }), r.scope);
    expect(echo?.content).toEqual({ status: "ok", comms: { a: { target_name: "echo" } } });
    await dispatch(state, commRequest("comm_close", { comm_id: "a" }), r.scope);
    const after = await dispatch(state, request("comm_info_request", {}), r.scope);
    expect(after?.content).toEqual({ status: "ok", comms: { b: { target_name: "other" } } });
    expect(r.published).toEqual([]);
  });

  it("a message for a comm that isn't open is logged and never reaches the executor", async () => {
    const state = withTargets("echo");
    const r = recorder();
    await dispatch(state, commRequest("comm_msg", { comm_id: "ghost", data: {} }), r.scope);
    await dispatch(state, commRequest("comm_close", { comm_id: "ghost" }), r.scope);
    expect(state.delivered).toEqual([]);
    expect(r.logged).toEqual([
      "comm_msg for comm ghost, which is not open: ignored",
      "comm_close for comm ghost, which is not open: ignored",
    ]);
  });

  it.each([
    [{ target_name: "echo" }, "content.comm_id is missing"],
    [{ comm_id: 7, target_name: "echo" }, "content.comm_id must be a non-empty string"],
    [{ comm_id: "c", target_name: ["echo"] }, "content.target_name must be a non-empty string"],
  ])("a comm_open with malformed content %j throws InvalidRequest (logged by the server)", async (content, message) => {
    const state = withTargets("echo");
    await expect(dispatch(state, commRequest("comm_open", content), recorder().scope)).rejects.toThrow(message);
    expect(state.delivered).toEqual([]);
  });

  it("a comm an open handler closed at once is not listed", async () => {
    const state = fakeState({}, () => ({ kind: "handled", open: false }));
    await dispatch(state, commRequest("comm_open", { comm_id: "short", target_name: "t" }), recorder().scope);
    expect(state.comms.list()).toEqual({});
  });

  it("a cell's comm messages are published with their metadata and buffers, also from a silent execute", async () => {
    const r = recorder();
    publishOutput(r.scope, {
      kind: "comm",
      message: { type: "comm_msg", content: { comm_id: "k", data: { v: 1 } }, metadata: { version: "2" }, buffers: [new Uint8Array([9, 8])] },
    });
    expect(r.published).toEqual([
      { type: "comm_msg", content: { comm_id: "k", data: { v: 1 } }, extra: { metadata: { version: "2" }, buffers: [Buffer.from([9, 8])] } },
    ]);
    const state = fakeState({
      open: ({ output }) => {
        output({ kind: "stream", name: "stdout", text: "hidden" });
        output({ kind: "comm", message: { type: "comm_open", content: { comm_id: "s", target_name: "t", data: {} }, metadata: {}, buffers: [] } });
        return { status: "ok" };
      },
    });
    const silent = recorder();
    await dispatch(state, request("execute_request", { code: "open", silent: true }), silent.scope);
    expect(silent.published.map((p) => p.type)).toEqual(["comm_open"]);
  });

  it("the table follows the comms the kernel opens and closes", () => {
    const table = new CommTable();
    table.observe("comm_open", { comm_id: "k1", target_name: "t", data: {} });
    table.observe("comm_open", { comm_id: "k2", target_name: "u", data: {} });
    table.observe("stream", { name: "stdout", text: "x" });
    table.observe("comm_close", { comm_id: "k1", data: {} });
    expect(table.list()).toEqual({ k2: { target_name: "u" } });
    expect(table.clear()).toEqual(["k2"]);
    expect(table.list()).toEqual({});
  });
});
