/**
 * Both sides of the join handshake (protocol/join.ts). The driver binds a ROUTER and gathers
 * hellos until every PE process has joined, then orders them: a process whose launcher gave it
 * a rank gets that slot, the others fill the free slots in the order they said hello. A PE
 * process connects a DEALER, says hello and waits for its welcome; it keeps the socket (it says
 * there when one of its PE threads died), and loses the driver when that connection drops.
 */
import * as zmq from "zeromq";
import { JOIN_VERSION, decodeJoin, encodeJoin, type JoinMessage, type PeConfig } from "../protocol/join.ts";
import { sameSecret } from "./secret.ts";
import { advertisedEndpoint, bindEndpoint } from "../transport/zmq-address.ts";
import { curveClient, curveServer, releaseCurveServer, type CurveKeys } from "../transport/curve.ts";

/** A PE process that said hello with the right secret. */
export interface Joiner {
  readonly routingId: Buffer;
  readonly rank?: number;
  /** Its PEs' receiving sockets (tcp://host:port), one per PE it hosts. */
  readonly addresses: string[];
  readonly host: string;
  readonly pid: number;
}

type Hello = Extract<JoinMessage, { t: "hello" }>;
/** A PE process's report that one of its PE threads ended. */
export type LostPe = Extract<JoinMessage, { t: "lost" }>;

/** The driver's rendezvous socket: where PE processes come to join. */
export class Rendezvous {
  private readonly joiners: Joiner[] = [];
  private readonly ranks = new Set<number>();
  private wanted = 0;
  private complete: ((joiners: Joiner[]) => void) | undefined;
  /** Told when an admitted PE process reports that one of its PE threads ended. */
  onLost: ((joiner: Joiner, lost: LostPe) => void) | undefined;

  private constructor(private readonly router: zmq.Router, readonly address: string, private readonly secret: string, private readonly curve: boolean) {
    void this.serve();
  }

  /** Binds on a free port of `host`; only hellos carrying `secret` are admitted (and with `curve`, only holders of its keys connect). */
  static async bind(host: string, secret: string, curve?: CurveKeys): Promise<Rendezvous> {
    const router = new zmq.Router({ linger: 0, heartbeatInterval: 1000, heartbeatTimeout: 3000, ...(curve ? await curveServer(curve) : {}) });
    await router.bind(bindEndpoint(host));
    return new Rendezvous(router, advertisedEndpoint(router.lastEndpoint!), secret, curve !== undefined);
  }

  /** Resolves with `count` joiners ordered by slot (their PEs are numbered in that order), once that many have said hello. */
  gather(count: number): Promise<Joiner[]> {
    this.wanted = count;
    return new Promise((resolve) => {
      this.complete = resolve;
      this.maybeComplete();
    });
  }

  /** Tells a joiner its first PE number, configuration and everyone's addresses. */
  welcome(joiner: Joiner, config: PeConfig, peers: string[]): void {
    this.reply(joiner.routingId, { t: "welcome", config, peers });
  }

  /** Closes the socket: PE processes that are still connected notice and exit. */
  close(): void {
    if (this.router.closed) return;
    if (this.curve) releaseCurveServer(); // before the socket: see releaseCurveServer
    this.router.close();
  }

  private async serve(): Promise<void> {
    try {
      for await (const [routingId, frame] of this.router) {
        const msg = decodeJoin(frame);
        if (msg?.t === "hello") this.hello(routingId!, msg);
        else if (msg?.t === "lost") {
          // Only from a process that joined: anyone may connect to this port.
          const joiner = this.joiners.find((j) => j.routingId.equals(routingId!));
          if (joiner) this.onLost?.(joiner, msg);
        }
      }
    } catch (err) {
      if (!this.router.closed) throw err;
    }
  }

  private hello(routingId: Buffer, msg: Hello): void {
    const refuse = (reason: string) => this.reply(routingId, { t: "refused", reason });
    if (msg.v !== JOIN_VERSION) return refuse(`join protocol version ${msg.v}, the driver speaks ${JOIN_VERSION}: use the same charm4ts on every host`);
    if (!sameSecret(msg.secret, this.secret)) return refuse("wrong secret: this runtime was started with another one");
    if (this.wanted > 0 && this.joiners.length >= this.wanted) return refuse(`this runtime already has all of its ${this.wanted} PEs`);
    if (msg.rank !== undefined) {
      if (!Number.isInteger(msg.rank) || msg.rank < 0) return refuse(`rank ${msg.rank} is not a whole number from 0`);
      if (this.wanted > 0 && msg.rank >= this.wanted) return refuse(`rank ${msg.rank}, but this runtime has ${this.wanted} PE processes (ranks 0 … ${this.wanted - 1})`);
      if (this.ranks.has(msg.rank)) return refuse(`another PE process already joined with rank ${msg.rank}`);
      this.ranks.add(msg.rank);
    }
    this.joiners.push({ routingId, rank: msg.rank, addresses: msg.addresses, host: String(msg.host), pid: Number(msg.pid) });
    this.maybeComplete();
  }

  private maybeComplete(): void {
    if (!this.complete || this.joiners.length < this.wanted) return;
    const done = this.complete;
    this.complete = undefined;
    done(numbered(this.joiners, this.wanted));
  }

  private reply(routingId: Buffer, msg: JoinMessage): void {
    // A ROUTER never blocks a send (it drops for a peer that is gone), so sends needn't queue.
    this.router.send([routingId, encodeJoin(msg)]).catch(() => undefined);
  }
}

/** Orders joiners by slot: their ranks first, then the free slots in hello order. */
function numbered(joiners: Joiner[], count: number): Joiner[] {
  const slots: Array<Joiner | undefined> = new Array(count);
  for (const j of joiners) if (j.rank !== undefined) slots[j.rank] = j;
  let free = 0;
  for (const j of joiners) {
    if (j.rank !== undefined) continue;
    while (slots[free]) free++;
    slots[free] = j;
  }
  return slots as Joiner[];
}

/** A PE process's side: the welcome it got, and the socket to keep (it drops when the driver goes; lost PE threads are reported on it). */
export interface Joined {
  config: PeConfig;
  peers: string[];
  socket: zmq.Dealer;
}

/** Says hello to the driver at `rendezvous` and waits for the welcome (or a clear refusal). */
export async function joinRuntime(rendezvous: string, hello: Omit<Hello, "t" | "v">, timeoutMs: number, curve?: CurveKeys): Promise<Joined> {
  // Heartbeats: a driver whose host vanished (no TCP reset) is noticed within seconds too.
  const socket = new zmq.Dealer({ linger: 0, receiveTimeout: timeoutMs, heartbeatInterval: 1000, heartbeatTimeout: 3000, ...(curve ? curveClient(curve) : {}) });
  socket.connect(rendezvous);
  try {
    await socket.send(encodeJoin({ t: "hello", v: JOIN_VERSION, ...hello }));
    for (;;) {
      const [frame] = await socket.receive();
      const msg = decodeJoin(frame);
      if (msg?.t === "welcome") return { config: msg.config, peers: msg.peers, socket };
      if (msg?.t === "refused") throw new Error(`the driver at ${rendezvous} refused this PE: ${msg.reason}`);
    }
  } catch (err) {
    socket.close();
    if ((err as { code?: string }).code === "EAGAIN") {
      throw new Error(`no welcome from a driver at ${rendezvous} within ${timeoutMs / 1000} s: is the driver running, reachable from this host, and did every PE of the runtime start?`);
    }
    throw err;
  }
}
