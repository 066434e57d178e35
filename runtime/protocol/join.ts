/**
 * The join handshake, spoken once per PE process on the driver's rendezvous socket (a ZeroMQ
 * ROUTER; the PE's DEALER), as JSON frames: the process says hello with the runtime's secret,
 * its rank (when a launcher gave it one) and the address of each of its PEs' receiving sockets
 * (a process may host several PEs, one thread each); once every process has joined, each gets
 * its first PE number and everyone's addresses. The runtime's own messages (messages.ts) then go
 * over the transport, starting with each PE's "ready". A process hosting several PEs also says
 * here when one of its PE threads died (the others carry on).
 */
import type { Endpoint } from "./ids.ts";
import type { ErrorData } from "./messages.ts";

/** Join protocol version: a PE of another charm4ts version is refused with a clear reason. */
export const JOIN_VERSION = 2;

/** What a PE needs to know to start, however it was started (thread or process). */
export interface PeConfig {
  pe: Endpoint;
  numPes: number;
  /** Program module URLs to import (compiled by the driver; readable where the PE runs). */
  modules: string[];
  /** Interactive definition scripts so far, replayed before the PE reports ready. */
  definitions: string[];
  interactive: boolean;
  balancer?: string;
  /** The most µs the PE keeps polling its ports after handling messages (spin.ts; 0: off). */
  spinUs?: number;
  /** The count of awake threads this PE shares with the driver and the other PE threads (awake-count.ts). */
  awake?: SharedArrayBuffer;
  /** A PE restarted in place: which incarnation it is, and every restart so far (see failure.ts). */
  restart?: { incarnation: number; replacements: Replacement[] };
  /** PE processes: ms a peer may take no messages while some wait for it before that is reported (0: never). */
  sendTimeoutMs?: number;
}

/** A PE restarted in place: collections that existed before it (by each endpoint's id counter then) lost their chares there. */
export interface Replacement {
  pe: Endpoint;
  incarnation: number;
  /** Each live endpoint's collection counter at the restart: ids up to it are older. */
  marks: Array<[Endpoint, number]>;
  /** What happened to the old PE ("did not answer within 1000 ms"). */
  why: string;
}

/** Driver↔PE-process messages on the rendezvous socket. */
export type JoinMessage =
  /** PE process → driver: let me join, with one address per PE I host. `rank` (the process's) from the launcher's environment, if any. */
  | { t: "hello"; v: number; secret: string; rank?: number; addresses: string[]; host: string; pid: number }
  /** Driver → PE process: your PEs are `config.pe` onwards; `peers[0]` is the driver's address, `peers[k + 1]` PE k's. */
  | { t: "welcome"; config: PeConfig; peers: string[] }
  /** Driver → PE process: not admitted, and why (the process prints it and exits). */
  | { t: "refused"; reason: string }
  /** PE process → driver: one of its PE threads ended (`how`: "exited with code 7"); `error` when it died of an exception. */
  | { t: "lost"; pe: Endpoint; how: string; error?: ErrorData };

/** Encodes a join message as one frame. */
export function encodeJoin(msg: JoinMessage): string {
  return JSON.stringify(msg);
}

/** Decodes a join frame; undefined when it isn't one (anything may connect to a TCP port). */
export function decodeJoin(frame: Buffer | undefined): JoinMessage | undefined {
  if (!frame || frame.length > 1 << 24) return undefined;
  try {
    const msg = JSON.parse(frame.toString("utf8")) as JoinMessage;
    if (typeof msg !== "object" || msg === null) return undefined;
    switch (msg.t) {
      case "hello":
        return Array.isArray(msg.addresses) && msg.addresses.length > 0 && msg.addresses.every((a) => typeof a === "string") && typeof msg.secret === "string" ? msg : undefined;
      case "welcome":
        return typeof msg.config === "object" && Array.isArray(msg.peers) ? msg : undefined;
      case "refused":
        return typeof msg.reason === "string" ? msg : undefined;
      case "lost":
        return Number.isInteger(msg.pe) && typeof msg.how === "string" ? msg : undefined;
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}
