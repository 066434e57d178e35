/**
 * A PE process that hosts several PEs, one worker thread each (pe-process.ts hosts one, on its
 * main thread). This main thread only assembles and watches: it starts the threads, which bind
 * their own ZeroMQ sockets, joins the runtime with their addresses, hands each its PE number
 * and ports to its siblings, and then stays out of the message path — siblings talk over
 * MessagePorts, everyone else reaches each thread's socket directly. A thread that dies is
 * reported to the driver on the rendezvous connection; its siblings carry on.
 */
import { hostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { encodeJoin, type JoinMessage } from "../protocol/join.ts";
import { joinRuntime, type Joined } from "../startup/rendezvous.ts";
import { rankFromEnv } from "../startup/launcher-env.ts";
import { SECRET_ENV, decodeSecret } from "../startup/secret.ts";
import { localAddressToward } from "../startup/local-address.ts";
import { JoiningThreads } from "../startup/start-joining-threads.ts";
import type { PeProcessOptions } from "./pe-process.ts";
import { maxHeapFrom } from "../startup/heap-limit.ts";
import { curveServer } from "../transport/curve.ts";

const JOIN_TIMEOUT_MS = 60_000;
/** How long a dropped driver connection waits for a thread's news that the driver told it to stop. */
const STOP_NEWS_GRACE_MS = 500;

/** Joins the runtime with `pes` PE threads; the process exits once all of them have ended. */
export async function runPeHost(options: PeProcessOptions, pes: number): Promise<void> {
  const rendezvous = options.connect;
  const { token, curve } = decodeSecret(options.secret);
  delete process.env[SECRET_ENV]; // the threads' children must not inherit it
  const rank = rankFromEnv();
  const host = options.bind ?? (await localAddressToward(rendezvous));
  // This thread serves ZAP for the threads' CURVE sockets (they share its ZeroMQ context) as
  // long as the process lives.
  if (curve) await curveServer(curve);

  let joined: Joined | undefined;
  let stopping = false;
  // zeromq.js allows one send at a time per socket: reports go out in a chain.
  let sending: Promise<unknown> = Promise.resolve();
  const tell = (msg: JoinMessage): void => {
    const socket = joined!.socket;
    sending = sending.then(() => socket.send(encodeJoin(msg))).catch(() => undefined);
  };
  const threads = new JoiningThreads(pes, { host, curve }, (thread, end) => {
    if (!joined) return; // before joining: the addresses reject, and start-up fails below
    const pe = joined.config.pe + thread;
    tell({ t: "lost", pe, how: end.how, error: end.error && { ...end.error, pe } });
  }, maxHeapFrom(undefined)); // the driver passes peMaxHeapMb in the environment
  try {
    const addresses = await threads.addresses;
    joined = await joinRuntime(rendezvous, { secret: token, rank, addresses, host: hostname(), pid: process.pid }, JOIN_TIMEOUT_MS, curve);
  } catch (err) {
    threads.release(); // they close their sockets and end
    await threads.ended;
    throw err;
  }
  const { config, peers, socket } = joined;
  const last = config.pe + pes - 1;
  // A report of a dead thread still leaves when this process ends right after it.
  socket.linger = 1000;

  // Without its driver a PE has nothing to do (as in pe-process.ts). But the driver also closes
  // this connection at a normal end, as soon as these threads have closed their own sockets on
  // its "stop": each said so to this thread first, though that news may still be a turn behind
  // the disconnect. A moment's wait for it tells the two apart (the main path below then exits 0).
  socket.events.on("disconnect", async () => {
    if (stopping) return;
    const told = await Promise.race([threads.stopping.then(() => true), delay(STOP_NEWS_GRACE_MS).then(() => false)]);
    if (told || stopping) return;
    stopping = true;
    process.stderr.write(`charm4ts-pe: PEs ${config.pe}…${last} lost the driver at ${rendezvous}; exiting\n`);
    process.exit(1);
  });

  const { pe: _first, ...shared } = config;
  threads.start(config.pe, shared, peers);
  await threads.ended;
  stopping = true;
  await sending;
  socket.close();
  process.exit(0);
}
