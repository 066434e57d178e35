/** `charm.status()`: what each PE hosts and how many messages it has moved, shown as a table. */
import { getHeapStatistics } from "node:v8";
import type { Runtime } from "../core/runtime.ts";
import type { FlowStats } from "../transport/transport.ts";
import { MIME_BUNDLE, htmlTable } from "./display.ts";
import { askEveryPe } from "../core/ask-pes.ts";

/** One PE's numbers. */
export interface PeStatus {
  pe: number;
  chares: number;
  /** Collections this PE keeps state for (destroyed ones are dropped). */
  collections: number;
  /** Chares per class on this PE. */
  byClass: Record<string, number>;
  sent: number;
  handled: number;
  heapUsedMB: number;
  /** The process it runs in (the driver's own for PE threads). */
  pid: number;
  /** Messages held here for elements not here yet (on their way, or their collection not made), per class. */
  held?: Record<string, number>;
  /** PE processes: what flow control holds for slow receivers, and has held at most (bytes). */
  flow?: FlowStats;
}

/** This PE's numbers (answered to a "status" message). */
export function peStatus(runtime: Runtime): PeStatus {
  const byClass: Record<string, number> = {};
  let chares = 0;
  for (const coll of runtime.runner.byId.values()) {
    if (coll.elements.size === 0) continue;
    chares += coll.elements.size;
    byClass[coll.ref.cls] = (byClass[coll.ref.cls] ?? 0) + coll.elements.size;
  }
  const held: Record<string, number> = {};
  const inbound = runtime.runner.arrivals.heldCounts();
  for (const coll of runtime.runner.byId.values()) {
    const n = coll.pending.length + (inbound.get(coll.ref.cid) ?? 0);
    if (n > 0) held[coll.ref.cls ?? `collection ${coll.ref.cid}`] = (held[coll.ref.cls] ?? 0) + n;
  }
  return { pe: runtime.self, chares, collections: runtime.runner.byId.size, byClass, held: Object.keys(held).length ? held : undefined, sent: runtime.scheduler.traffic.sent, handled: runtime.scheduler.traffic.handled, heapUsedMB: Math.round(getHeapStatistics().used_heap_size / 1e5) / 10, pid: process.pid, flow: runtime.transport.flowStats?.() };
}

/** The runtime's state across PEs, displayable in a notebook. */
export class RuntimeStatus {
  /** PEs in processes of their own: the table gets a column with each one's process id. */
  private readonly processes: boolean;

  /**
   * `pes`: the live PEs' numbers; `dead`: the PEs that are dead, with why (they have no numbers);
   * `pesFrom`: where the number of PEs came from ("CHARM4TS_PES", "CPU affinity: 2 of 64 cores", …).
   */
  constructor(readonly pes: PeStatus[], readonly dead: ReadonlyMap<number, string> = new Map(), readonly pesFrom = "") {
    this.processes = pes.some((p) => p.pid !== process.pid);
  }

  /** Total chares on all PEs. */
  get chares(): number {
    return this.pes.reduce((n, p) => n + p.chares, 0);
  }

  private rows(): string[][] {
    const live = this.pes.map((p) => [String(p.pe), String(p.chares), Object.entries(p.byClass).map(([c, n]) => `${c}×${n}`).join(", ") || "—", String(p.sent), String(p.handled), `${p.heapUsedMB} MB`, ...(this.processes ? [String(p.pid)] : [])]);
    const dead = [...this.dead].map(([pe, why]) => [String(pe), "—", `dead: ${why}`, "—", "—", "—", ...(this.processes ? ["—"] : [])]);
    return [...live, ...dead].sort((a, b) => Number(a[0]) - Number(b[0]));
  }

  [MIME_BUNDLE](): Record<string, string> {
    const header = ["PE", "chares", "classes", "sent", "handled", "heap", ...(this.processes ? ["process"] : [])];
    const caption = `charm4ts runtime: ${this.pes.length + this.dead.size} PEs${this.dead.size ? ` (${this.dead.size} dead)` : ""}, ${this.chares} chares`;
    const countLine = this.pesFrom ? [`number of PEs from: ${this.pesFrom}`] : [];
    const widths = header.map((h, i) => Math.max(h.length, ...this.rows().map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
    return { "text/plain": [caption, ...countLine, line(header), ...this.rows().map(line)].join("\n"), "text/html": htmlTable([caption, ...countLine].join("; "), header, this.rows()) };
  }
}

/** Asks every live PE for its numbers; dead PEs are listed as dead. `pesFrom`: where their number came from. */
export async function runtimeStatus(pesFrom = ""): Promise<RuntimeStatus> {
  const { answers, dead } = await askEveryPe<PeStatus>((fid) => ({ t: "status", fid }), "charm.status()");
  return new RuntimeStatus(answers, dead, pesFrom);
}
