import { expect, it } from "vitest";
import { tmpdir } from "node:os";
import { CellExecutor } from "../../../kernel/cells/executor.ts";
import { deferred, recorder } from "./helpers.ts";

/** Interrupts a busy loop in `executor` and checks it still runs cells afterwards. */
async function interruptLoop(executor: CellExecutor): Promise<void> {
  const started = deferred();
  const result = executor.execute("console.log('go'); while (true) {}", { ...recorder().hooks, output: () => started.resolve() });
  await started.promise;
  executor.interrupt();
  expect(await result).toMatchObject({ ename: "Interrupted" });
  expect(await executor.execute("'alive'", recorder().hooks)).toMatchObject({ status: "ok" });
}

it("starts again after close (a kernel restart), and each executor interrupts its own worker", async () => {
  const first = await CellExecutor.start({ cwd: tmpdir() });
  await interruptLoop(first);
  await first.close();
  const [second, third] = await Promise.all([CellExecutor.start({ cwd: tmpdir() }), CellExecutor.start({ cwd: tmpdir() })]);
  await third.execute("let mine = 3", recorder().hooks);
  await interruptLoop(second);
  expect(await third.execute("mine", recorder().hooks)).toMatchObject({ status: "ok", value: { data: { "text/plain": "3" } } });
  await interruptLoop(third);
  await Promise.all([second.close(), third.close()]);
});

it("fails a running cell when closed, and refuses cells after", async () => {
  const executor = await CellExecutor.start({ cwd: tmpdir() });
  const started = deferred();
  const running = executor.execute("console.log('go'); await new Promise(() => {})", { ...recorder().hooks, output: () => started.resolve() });
  await started.promise;
  await executor.close();
  // close() interrupts the running cell first (so its runtime work stops before the runtime does);
  // a cell that doesn't end in time is failed as closed.
  const result = await running;
  expect(result.status).toBe("error");
  expect(["Interrupted", "ExecutorError"]).toContain(result.status === "error" ? result.ename : "");
  await expect(executor.execute("1", recorder().hooks)).rejects.toThrow(/closed/);
});

it("runs cells one at a time, in call order", async () => {
  const executor = await CellExecutor.start({ cwd: tmpdir() });
  const order: string[] = [];
  const a = executor.execute("await new Promise((r) => setTimeout(r, 20)); 'a'", recorder().hooks).then(() => order.push("a"));
  const b = executor.execute("'b'", recorder().hooks).then(() => order.push("b"));
  await Promise.all([a, b]);
  expect(order).toEqual(["a", "b"]);
  await executor.close();
});

it("survives a cell that exhausts the worker's memory: the cell fails, onExit says why", async () => {
  const executor = await CellExecutor.start({ cwd: tmpdir(), typeCheck: false, maxHeapMb: 128 });
  const exited = deferred<string>();
  executor.onExit = exited.resolve;
  const result = await executor.execute("const hog: number[][] = [];\nwhile (true) hog.push(new Array(1e6).fill(1))", recorder().hooks);
  expect(result).toMatchObject({ status: "error", ename: "ExecutorError", evalue: expect.stringMatching(/memory/) });
  expect(await exited.promise).toMatch(/memory/);
  await expect(executor.execute("1", recorder().hooks)).rejects.toThrow(/closed/);
  await executor.close();
});
