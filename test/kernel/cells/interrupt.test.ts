import { afterAll, beforeAll, expect, it } from "vitest";
import { tmpdir } from "node:os";
import { CellExecutor } from "../../../kernel/cells/executor.ts";
import { deferred, recorder } from "./helpers.ts";

let executor: CellExecutor;
beforeAll(async () => {
  executor = await CellExecutor.start({ cwd: tmpdir() });
});
afterAll(() => executor.close());

/** Runs `code`, interrupts it once it printed "started", and returns the result and the time taken. */
async function interruptAfterStart(code: string) {
  const started = deferred();
  const r = recorder();
  const hooks = { ...r.hooks, output: (o: Parameters<typeof r.hooks.output>[0]) => (r.hooks.output(o), started.resolve()) };
  const result = executor.execute(code, hooks);
  await started.promise;
  const t0 = performance.now();
  executor.interrupt();
  return { result: await result, ms: performance.now() - t0 };
}

it("stops a synchronous loop within a second and keeps state", async () => {
  await executor.execute("let kept = 'still here'", recorder().hooks);
  const { result, ms } = await interruptAfterStart("console.log('started');\nwhile (true) {}");
  expect(result).toMatchObject({ status: "error", ename: "Interrupted", evalue: expect.stringMatching(/running JavaScript/) });
  expect(ms).toBeLessThan(1000);
  const after = await executor.execute("kept", recorder().hooks);
  expect(after).toEqual({ status: "ok", value: { data: { "text/plain": "'still here'" }, metadata: {} } });
});

it("stops an await that nothing will resolve within a second", async () => {
  const { result, ms } = await interruptAfterStart("console.log('started');\nawait new Promise(() => {})");
  expect(result).toMatchObject({ status: "error", ename: "Interrupted", evalue: expect.stringMatching(/awaiting something/) });
  expect(ms).toBeLessThan(1000);
  expect(await executor.execute("kept.length", recorder().hooks)).toMatchObject({ status: "ok" });
});

it("stops a loop that started after an await", async () => {
  const { result, ms } = await interruptAfterStart("await null;\nconsole.log('started');\nfor (;;) {}");
  expect(result).toMatchObject({ status: "error", ename: "Interrupted" });
  expect(ms).toBeLessThan(1000);
  expect(await executor.execute("1 + 1", recorder().hooks)).toMatchObject({ status: "ok" });
});

it("stops a cell waiting for input", async () => {
  const asked = deferred();
  const result = executor.execute("await input('never answered')", {
    ...recorder().hooks,
    input: () => (asked.resolve(), new Promise<string>(() => {})),
  });
  await asked.promise;
  executor.interrupt();
  expect(await result).toMatchObject({ status: "error", ename: "Interrupted" });
  expect(await executor.execute("kept", recorder().hooks)).toMatchObject({ status: "ok" });
});

it("ignores an interrupt when no cell runs", async () => {
  executor.interrupt();
  expect(await executor.execute("2", recorder().hooks)).toMatchObject({ status: "ok" });
});

it("stops a loop inside a promise job after a comm handler ran, and the kernel lives (it aborted the process)", async () => {
  // A comm handler runs in an async context (worker/comms.ts); with async hooks on, V8's
  // termination of a loop inside a promise job aborted the whole process in Node 20.
  await executor.execute('comms.register("ping", (comm) => comm.onMsg(() => comm.send({ pong: true })))', recorder().hooks);
  const opened = await executor.deliverComm({ type: "comm_open", content: { comm_id: "p1", target_name: "ping", data: {} }, metadata: {}, buffers: [] }, "origin-1");
  expect(opened.kind).toBe("handled");
  await executor.deliverComm({ type: "comm_msg", content: { comm_id: "p1", data: {} }, metadata: {}, buffers: [] }, "origin-2");
  const { result } = await interruptAfterStart("await null;\nconsole.log('started');\nfor (;;) {}");
  expect(result).toMatchObject({ status: "error", ename: "Interrupted" });
  expect(await executor.execute("40 + 2", recorder().hooks)).toEqual({ status: "ok", value: { data: { "text/plain": "42" }, metadata: {} } });
});
