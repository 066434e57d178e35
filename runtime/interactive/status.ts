/** `charm.status()`: what each PE hosts and how many messages it has moved, shown as a table. */
import { getHeapStatistics } from "node:v8";
import type { Runtime } from "../core/runtime.ts";
import type { FlowStats } from "../transport/transport.ts";
import { Future } from "../core/future.ts";
import { rt } from "../core/current.ts";
import { MIME_BUNDLE, htmlTable } from "./display.ts";

/** One PE's numbers. */
export interface PeStatus {
  pe: number;
  chares: number;
  /** Chares per class on this PE. */
  byClass: Record<string, number>;
  sent: number;
  handled: number;
  heapUsedMB: number;
  /** The process it runs in (the driver's own for PE threads). */
  pid: number;
  /** PE processes: what flow control holds for slow receivers, and has held at most (bytes). */
  flow?: FlowStats;
}

/** This PE's numbers (answered to a "status" message). */
export function peStatus(runtime: Runtime): PeStatus {
  const byClass: Record<string, number> = {};
  let chares = 0;
  for (const coll of runtime.host.byId.values()) {
    if (coll.elements.size === 0) continue;
    chares += coll.elements.size;
    byClass[coll.ref.cls] = (byClass[coll.ref.cls] ?? 0) + coll.elements.size;
  }
  return { pe: runtime.self, chares, byClass, sent: runtime.sent, handled: runtime.handled, heapUsedMB: Math.round(getHeapStatistics().used_heap_size / 1e5) / 10, pid: process.pid, flow: runtime.transport.flowStats?.() };
}

/** The runtime's state across PEs, displayable in a notebook. */
export class RuntimeStatus {
  /** PEs in processes of their own: the table gets a column with each one's process id. */
  private readonly processes: boolean;

  constructor(readonly pes: PeStatus[]) {
    this.processes = pes.some((p) => p.pid !== process.pid);
  }

  /** Total chares on all PEs. */
  get chares(): number {
    return this.pes.reduce((n, p) => n + p.chares, 0);
  }

  private rows(): string[][] {
    return this.pes.map((p) => [String(p.pe), String(p.chares), Object.entries(p.byClass).map(([c, n]) => `${c}×${n}`).join(", ") || "—", String(p.sent), String(p.handled), `${p.heapUsedMB} MB`, ...(this.processes ? [String(p.pid)] : [])]);
  }

  [MIME_BUNDLE](): Record<string, string> {
    const header = ["PE", "chares", "classes", "sent", "handled", "heap", ...(this.processes ? ["process"] : [])];
    const caption = `charm4ts runtime: ${this.pes.length} PEs, ${this.chares} chares`;
    const widths = header.map((h, i) => Math.max(h.length, ...this.rows().map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
    return { "text/plain": [caption, line(header), ...this.rows().map(line)].join("\n"), "text/html": htmlTable(caption, header, this.rows()) };
  }
}

/** Asks every PE for its numbers. */
export async function runtimeStatus(): Promise<RuntimeStatus> {
  const runtime = rt();
  const answers = new Future<PeStatus[]>(runtime.numPes);
  for (let pe = 0; pe < runtime.numPes; pe++) runtime.send(pe, { t: "status", fid: answers.id });
  const pes = runtime.numPes === 1 ? [await answers as unknown as PeStatus] : await answers;
  return new RuntimeStatus(pes.sort((a, b) => a.pe - b.pe));
}
