/**
 * The one message union spoken between endpoints (driver and PEs), whatever carries it: a
 * MessagePort between threads, ZeroMQ frames between processes. Every value in
 * a message is structured-cloneable; proxies, futures and channels inside arguments travel
 * as tagged references made by `codec.ts` (the `r` flag says a decode walk is needed).
 */
import type { Replacement } from "./join.ts";
import type { CollectionId, Endpoint, FutureId, Index, ReductionKey, ReductionScope, SectionId } from "./ids.ts";

/** How a collection places and names its elements. */
export type CollectionKind = "array" | "sparse" | "group" | "single";

/** What any endpoint needs to address a collection: enough to compute where an element lives. */
export interface CollectionRef {
  cid: CollectionId;
  /** The chare class's registered name. */
  cls: string;
  kind: CollectionKind;
  /** Dense arrays: the extent of each dimension. */
  dims?: number[];
  /** A registered array map's name, when placement is custom. */
  map?: string;
  /** Arrays that opted into AtSync load balancing: the balancer's name. */
  lb?: string;
  /** Singletons: the PE the chare lives on. */
  pe?: number;
}

/** Printed output a PE held back over its budget (runtime/pe/output-budget.ts). */
export interface DroppedOutput {
  lines: number;
  bytes: number;
  /** The PE's recent output (its last lines, shown or not, marked "[PE n] "), once the flood paused. */
  recent?: string;
}

/** A proxy on the wire: a collection, or one element of it when `idx` is set. */
export interface ProxyRef extends CollectionRef {
  idx?: Index;
}

/** A section proxy on the wire: small, since every endpoint is sent the members once (SectionDef). */
export interface SectionRef {
  sid: SectionId;
  /** The chare class (or classes, "A+B", for a combination) for labels and checks. */
  cls: string;
  /** Number of members. */
  n: number;
}

/** A section's members, sent once to every endpoint when it is made: per collection, its indices in order. */
export interface SectionDef extends SectionRef {
  refs: CollectionRef[];
  members: Index[][];
}

/** Where a reduction's result or a callback goes. */
export type TargetRef =
  | { k: "future"; fid: FutureId }
  | { k: "method"; proxy: ProxyRef; m: string }
  | { k: "section"; sec: SectionRef; m: string };

/** What the caller wants back from an entry-method call. */
export interface ReplyRef {
  fid: FutureId;
  /** "value": the return value; "done": completion only. */
  mode: "value" | "done";
}

/** An error as data: it crosses threads and is rebuilt as a RemoteError on arrival. */
export interface ErrorData {
  name: string;
  message: string;
  stack: string;
  pe: Endpoint;
  /** The chare, e.g. "Fib[3]" or "Worker(single on PE 1)". */
  chare?: string;
  method?: string;
  /** A PE's loss (no code threw it): told as a loss, not as an unhandled error; a future receiving it rejects with a PeLostError. */
  lost?: true;
}

/** PEs' combined shares of a reduction, on their way up the tree to the reduction's root PE. */
export interface Partial {
  /** Contributions combined so far. */
  n: number;
  /** The combined value (for gather: [index, value] pairs). */
  v: unknown;
  /** The first error among the contributions, if any. */
  e?: ErrorData;
}

/** One element's measured load for the balancer: index, load (ms), and whether it may move. */
export type LoadReport = [idx: Index, load: number, migratable: boolean, moves: number];

/** One move of a load-balancing plan: an element, where it is, where it goes. */
export type PlannedMove = [idx: Index, from: number, to: number, moves: number];

/** Driver↔PE and PE↔PE messages. */
export type Message =
  | { t: "create"; ref: CollectionRef; a: unknown[]; r?: 1; idx?: Index; ack?: Endpoint }
  | { t: "created"; cid: CollectionId; pe: Endpoint; n: number; e?: ErrorData }
  | { t: "invoke"; to: ProxyRef; m: string; a: unknown[]; r?: 1; reply?: ReplyRef }
  // bcast with `sec`: a section's multicast, run by the section's members here only.
  | { t: "bcast"; to: CollectionRef; m: string; a: unknown[]; r?: 1; reply?: ReplyRef; b: number; only?: Index; sec?: SectionId }
  | { t: "resolve"; fid: FutureId; v: unknown; r?: 1 }
  | { t: "reject"; fid: FutureId; e: ErrorData }
  // contrib and down: the reduction's scope (a collection or a section) and which of its reductions.
  | { t: "contrib"; scope: ReductionScope; key: ReductionKey; reducer: string; target?: TargetRef; all?: 1; part: Partial; r?: 1; of?: number; root: Endpoint; pes: Endpoint[] }
  | { t: "down"; scope: ReductionScope; key: ReductionKey; v: unknown; e?: ErrorData; r?: 1 }
  | { t: "chan"; to: ProxyRef; from: string; seq: number; v: unknown; r?: 1 }
  | { t: "migrate"; ref: CollectionRef; idx: Index; s: unknown; r?: 1; planned?: 1 }
  | { t: "moved"; cid: CollectionId; idx: Index; pe: number; n: number; stayed?: 1 }
  | { t: "atSync"; ref: CollectionRef; pe: Endpoint; objs: LoadReport[] }
  | { t: "lbPlan"; cid: CollectionId; moves: PlannedMove[] }
  | { t: "lbHistory"; cid: CollectionId; fid: FutureId }
  | { t: "section"; def: SectionDef }
  | { t: "peDead"; pe: Endpoint; why: string }
  // After peDead (same ordered channel): how many of this PE's futures the loss of `pes` rejected,
  // answered on `fid`; the driver reports a loss only if nobody anywhere heard of it (driver/pe-lost.ts).
  | { t: "heardOf"; pes: Endpoint[]; fid: FutureId }
  | { t: "counters"; fid: FutureId }
  | { t: "replaced"; r: Replacement }
  | { t: "peer"; pe: Endpoint; port: unknown }
  | { t: "census"; cid: CollectionId; from: Endpoint }
  | { t: "censusCount"; cid: CollectionId; n: number; pe: Endpoint }
  | { t: "members"; cid: CollectionId; n: number }
  | { t: "qdStart"; target: TargetRef }
  | { t: "qdProbe"; wave: number }
  | { t: "qdCount"; wave: number; sent: number; recv: number; susp: number }
  | { t: "report"; e: ErrorData }
  | { t: "ready"; pe: Endpoint; error?: ErrorData }
  // `plain`: global code that declares nothing (a value set again), run as such rather than in REPL mode.
  | { t: "define"; code: string; fid: FutureId; plain?: 1 }
  | { t: "status"; fid: FutureId }
  // charm.destroy: drop the collection here, answer with how many of its elements were here.
  | { t: "destroy"; cid: CollectionId; fid: FutureId }
  // Answered with the PE's number, after everything the PE sent before it (same ordered channel).
  | { t: "echo"; fid: FutureId }
  /** Notebook: the driver's cell `cause` was interrupted; pool work it started stops (pool/pool.ts). */
  | { t: "cellInterrupted"; cause: number }
  | { t: "trace"; on: boolean; fid: FutureId }
  // What a PE printed (notebook mode), each line marked "[PE n] "; `pe` is the printer, for the kernel's per-PE log.
  // `dropped`: what the PE held back over its output budget since it last said (text is then
  // empty), with its recent output, shown or not, when the flood paused.
  | { t: "output"; stream: "stdout" | "stderr"; text: string; pe: number; dropped?: DroppedOutput }
  | { t: "exit"; code: number; reason?: string }
  // The driver's application heartbeat to PE processes (driver/heartbeat.ts): answered by the PE's event loop.
  | { t: "ping"; n: number }
  | { t: "pong"; n: number; pe: Endpoint }
  // charm.checkpoint / charm.restore: one step of saving or restoring, run by runtime/checkpoint/steps.ts;
  // "every", "barrier", "check" and "resume" are the checkpoints at AtSync barriers (checkpoint/auto.ts, barrier.ts).
  | { t: "ckpt"; step: "save" | "load" | "install" | "place" | "hooks" | "abort" | "keep" | "fetch" | "every" | "barrier" | "check" | "resume"; v: unknown; fid?: FutureId }
  | { t: "stop" };

/** Messages that quiescence detection does not count (they are its own traffic or lifecycle). */
export function isControlMessage(m: Message): boolean {
  return m.t === "qdProbe" || m.t === "qdCount" || m.t === "ready" || m.t === "stop" || m.t === "report" || m.t === "exit" || m.t === "qdStart" || m.t === "status" || m.t === "destroy" || m.t === "echo" || m.t === "trace" || m.t === "census" || m.t === "peDead" || m.t === "heardOf" || m.t === "counters" || m.t === "replaced" || m.t === "peer" || m.t === "censusCount" || m.t === "members" || m.t === "ping" || m.t === "pong" || m.t === "ckpt" || m.t === "cellInterrupted";
}
