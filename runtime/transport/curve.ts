/**
 * CURVE encryption and authentication for every socket of a runtime, on every address (loopback
 * too: other users of the host can reach loopback ports). The driver makes two key pairs per
 * runtime and hands them to its PEs with the secret: every receiving socket is a CURVE server
 * with the server key, every sending socket a client with the client key, and a ZAP handler in
 * each process admits only that client key. A peer without the keys can't finish the handshake
 * (wrong server key), is refused (unknown client key), or speaks the wrong mechanism (plain
 * TCP); recorded traffic can't be replayed, since each connection has session keys of its own.
 */
import * as zmq from "zeromq";

/** One runtime's keys, Z85-encoded (40 characters each). */
export interface CurveKeys {
  serverPublic: string;
  serverSecret: string;
  clientPublic: string;
  clientSecret: string;
}

/** The ZAP domain our sockets authenticate under. */
const DOMAIN = "charm4ts";

/** Fresh keys for a runtime. */
export function newCurveKeys(): CurveKeys {
  const server = zmq.curveKeyPair();
  const client = zmq.curveKeyPair();
  return { serverPublic: server.publicKey, serverSecret: server.secretKey, clientPublic: client.publicKey, clientSecret: client.secretKey };
}

/** CURVE server options: a bound socket that only peers holding the runtime's keys can talk to. */
export interface CurveServerOptions {
  curveServer: true;
  curveSecretKey: string;
  zapDomain: string;
  zapEnforceDomain: true;
}

/** CURVE client options: a connecting socket that proves it holds the runtime's client key. */
export interface CurveClientOptions {
  curveServerKey: string;
  curvePublicKey: string;
  curveSecretKey: string;
}

/**
 * Options of a receiving (bound) socket, once this process's ZAP handler listens: without one,
 * libzmq would let any client key in. Call `releaseCurveServer` just before the socket closes.
 */
export async function curveServer(keys: CurveKeys): Promise<CurveServerOptions> {
  users++;
  await admit(keys.clientPublic);
  // Enforcing the domain makes a handshake fail when no ZAP handler answers, where libzmq
  // would otherwise admit any client key.
  return { curveServer: true, curveSecretKey: keys.serverSecret, zapDomain: DOMAIN, zapEnforceDomain: true };
}

/**
 * A socket made with `curveServer` is about to close; the ZAP handler closes with the last (its
 * pending receive would keep Node running). Call it before closing the socket, so a handshake
 * still in flight fails instead of finding no handler.
 */
export function releaseCurveServer(): void {
  if (--users > 0) return;
  // Even when another thread's handler served us: the next runtime here looks for one afresh,
  // and admits only its own key (a runtime's keys die with its last socket).
  listening = undefined;
  admitted.clear();
  if (!zap) return;
  const handler = zap;
  zap = undefined;
  unbinding = stopZap(handler);
}

// zeromq.js runs an unbind on a libuv pool thread while this thread may still poll the same
// socket for a pending receive; libzmq sockets aren't thread-safe, and the two threads then
// process the socket's commands at once and abort the process (seen as "erased" in
// socket_base.cpp and in pipe.cpp's term ack as ZAP pipes ended). So the serving loop ends
// first, woken by a message of our own; only then is the address unbound (freed now, where a
// closed socket frees it later on ZeroMQ's thread and the next runtime here would find it
// taken) and the socket closed.
async function stopZap({ router, served }: ZapHandler): Promise<void> {
  const waker = new zmq.Dealer({ linger: 0 });
  try {
    waker.connect(ZAP_ADDRESS);
    // A loop that already ended (its socket closed under it) reads nothing: then the send isn't awaited.
    await Promise.race([waker.send(STOP).then(() => served), served]);
  } finally {
    waker.close();
  }
  await router.unbind(ZAP_ADDRESS).catch(() => undefined);
  router.close();
}

/**
 * Resolves once the ZAP handler released last has closed: it closes after unbinding, and a
 * thread that ends while its socket still receives aborts the process (zeromq.js#411).
 */
export function curveServerClosed(): Promise<void> {
  return unbinding ?? Promise.resolve();
}

/** Options of a sending (connecting) socket. */
export function curveClient(keys: CurveKeys): CurveClientOptions {
  return { curveServerKey: keys.serverPublic, curvePublicKey: keys.clientPublic, curveSecretKey: keys.clientSecret };
}

// Client keys admitted by this thread's ZAP handler: those of the runtimes whose sockets are open here.
const admitted = new Set<string>();
let listening: Promise<void> | undefined;
/** This thread's ZAP handler: its socket, and its serving loop (ends when told STOP). */
interface ZapHandler {
  router: zmq.Router;
  served: Promise<void>;
}
let zap: ZapHandler | undefined;
let users = 0;
let unbinding: Promise<void> | undefined;
const ZAP_ADDRESS = "inproc://zeromq.zap.01";

function admit(clientPublic: string): Promise<void> {
  admitted.add(z85Decode(clientPublic).toString("hex"));
  return (listening ??= serveZap());
}

// libzmq asks whoever binds this inproc address about every CURVE handshake (ZAP, RFC 27).
async function serveZap(): Promise<void> {
  await unbinding;
  const router = new zmq.Router({ linger: 0 });
  try {
    await router.bind(ZAP_ADDRESS);
  } catch (err) {
    router.close();
    // The threads of one process share ZeroMQ's context, so one handler serves them all: the
    // thread that bound it first (the driver, or a PE host's main thread) admits this runtime's key.
    if ((err as { code?: string }).code === "EADDRINUSE") return;
    throw err;
  }
  zap = { router, served: serve(router) };
}

// Only this thread's releaseCurveServer sends it (inproc peers are in this process; a ZAP request has 8 frames).
const STOP = "charm4ts: stop serving ZAP";

async function serve(router: zmq.Router): Promise<void> {
  try {
    for (;;) {
      const frames = await router.receive();
      if (frames.length === 2 && String(frames[1]) === STOP) return;
      const [id, empty, version, requestId, domain, , , mechanism, key] = frames;
      const ok = String(version) === "1.0" && String(domain) === DOMAIN && String(mechanism) === "CURVE" && key !== undefined && admitted.has(key.toString("hex"));
      await router.send([id!, empty ?? "", "1.0", requestId ?? "", ok ? "200" : "400", ok ? "OK" : "client key not issued by this runtime's driver", "", ""]);
    }
  } catch (err) {
    // Closed under it (the thread is ending): nothing to serve any more. Otherwise said, not thrown:
    // the process (the kernel) lives on, and only new connections fail their handshakes.
    if (!router.closed) process.stderr.write(`charm4ts: the CURVE authentication handler stopped (${(err as Error).message}); new connections between PE processes are refused until the runtime restarts\n`);
  }
}

const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/** Decodes Z85 (ZeroMQ's RFC 32) text to bytes. */
export function z85Decode(text: string): Buffer {
  if (text.length % 5 !== 0) throw new Error("Z85 text must be a multiple of 5 characters long");
  const out = Buffer.alloc((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let k = 0; k < 5; k++) {
      const digit = Z85.indexOf(text[i + k]!);
      if (digit < 0) throw new Error(`not a Z85 character: ${text[i + k]}`);
      value = value * 85 + digit;
    }
    out.writeUInt32BE(value >>> 0, o);
  }
  return out;
}
