/** Completion and inspection for the kernel's main thread, answered by the language process. */
import { fork, type ChildProcess } from "node:child_process";
import type { CompleteResult, InspectResult } from "../protocol.ts";
import { workerScript } from "../worker-bundle.ts";
import { codePointsToUtf16, utf16ToCodePoints } from "./positions.ts";
import type { FromLanguage, ToLanguage } from "./protocol.ts";

/** Asks the executor for live property names of `expression` (empty: top-level names). */
export type PropertyNames = (expression: string) => Promise<string[]>;

interface Pending {
  resolve(message: FromLanguage): void;
  reject(error: Error): void;
}

/**
 * TypeScript completion over the history of successful cells plus the current one, so names from
 * earlier cells complete with their types; live property names of the executor's objects are the
 * fallback when TypeScript knows nothing (an `any`, a value built dynamically). The language
 * process starts on first use: loading TypeScript and lib files costs a second or two, which most
 * sessions that never complete should not pay. A process, not a worker thread: its garbage
 * collection and compilation then run at its low priority, not beside the PEs' (see
 * language-process.ts).
 */
export class LanguageService {
  private child: Promise<ChildProcess> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly cwd: string,
    private readonly propertyNames: PropertyNames,
  ) {}

  /** Completes at `cursorPos` (code points). */
  async complete(history: readonly string[], code: string, cursorPos: number): Promise<CompleteResult> {
    const cursor = codePointsToUtf16(code, cursorPos);
    const reply = await this.request({ type: "complete", id: 0, history: [...history], code, cursor });
    let names = reply.type === "completions" ? reply.names : [];
    let kinds = reply.type === "completions" ? reply.kinds : [];
    let start = reply.type === "completions" ? reply.start : cursor;
    if (names.length === 0) {
      const match = /((?:[\p{L}_$][\p{L}\p{N}_$]*\.)*)([\p{L}_$][\p{L}\p{N}_$]*)?$/u.exec(code.slice(0, cursor));
      const path = (match?.[1] ?? "").replace(/\.$/, "");
      const prefix = match?.[2] ?? "";
      names = (await this.propertyNames(path)).filter((name) => name.startsWith(prefix));
      kinds = names.map(() => "property");
      start = cursor - prefix.length;
    }
    const cursorStart = utf16ToCodePoints(code, start);
    const cursorEnd = utf16ToCodePoints(code, cursor);
    // JupyterLab shows each match's kind from this (ipykernel's experimental completion metadata).
    const types = names.map((text, i) => ({ start: cursorStart, end: cursorEnd, text, type: kinds[i] ?? "" }));
    return { matches: names, cursor_start: cursorStart, cursor_end: cursorEnd, metadata: { _jupyter_types_experimental: types } };
  }

  /** Inspects the name at `cursorPos` (code points): its type signature and documentation. */
  async inspect(history: readonly string[], code: string, cursorPos: number, detailLevel: number): Promise<InspectResult> {
    const cursor = codePointsToUtf16(code, cursorPos);
    const reply = await this.request({ type: "inspect", id: 0, history: [...history], code, cursor, detailLevel });
    if (reply.type !== "info" || reply.text === null) return { found: false, data: {} };
    return { found: true, data: { "text/plain": reply.text, "text/markdown": "```ts\n" + reply.text + "\n```" } };
  }

  /** Type errors of `code` (after `history`) as report lines; empty when it type-checks. */
  async check(history: readonly string[], code: string, cellName: string): Promise<string[]> {
    const reply = await this.request({ type: "check", id: 0, history: [...history], code, cellName });
    return reply.type === "diagnostics" ? reply.lines : [];
  }

  /** Starts the language process and has it build the (empty) notebook program, ahead of the first request. */
  warmUp(): void {
    if (this.closed || this.child) return;
    this.check([], "", "warm-up.ts").catch(() => {});
  }

  /** Stops the language process, if it was started, and waits until it has exited. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    this.child = null;
    // A process still starting when closed never starts (its promise rejects): nothing to stop.
    const started = await child?.catch(() => null);
    if (!started || started.exitCode !== null || started.signalCode !== null) return;
    const exited = new Promise((resolve) => started.once("exit", resolve));
    // It runs unreferenced (it must never keep a kernel alive); while we wait for it to end, it
    // must keep this process alive, or a program with nothing else left exits mid-close.
    started.ref();
    started.kill();
    await exited;
  }

  private async request(message: ToLanguage): Promise<FromLanguage> {
    const child = await this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.send({ ...message, id });
    });
  }

  private start(): Promise<ChildProcess> {
    if (this.closed) return Promise.reject(new Error("the language service is closed"));
    // One promise, so concurrent first requests share one process.
    if (this.child) return this.child;
    const started: Promise<ChildProcess> = workerScript().then((script) => {
      if (this.closed) throw new Error("the language service is closed");
      // Its stderr joins the kernel's log; no flags of the kernel's own (an --inspect port, heap limits).
      const child = fork(script, ["language", this.cwd], { stdio: ["ignore", "ignore", "inherit", "ipc"], execArgv: [] });
      // It must not keep the kernel (or a test) running.
      child.unref();
      child.channel?.unref();
      child.on("message", (message: FromLanguage) => {
        this.pending.get(message.id)?.resolve(message);
        this.pending.delete(message.id);
      });
      const fail = (error: Error): void => {
        // A crashed language process fails its requests and is started afresh on the next one.
        if (this.child === started) this.child = null;
        for (const pending of this.pending.values()) pending.reject(error);
        this.pending.clear();
      };
      child.on("error", fail);
      child.on("exit", (code, signal) => fail(new Error(`the language process exited with ${signal ?? `code ${code}`}`)));
      return child;
    });
    this.child = started;
    return started;
  }
}
