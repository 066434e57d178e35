// The ZAP handler (transport/curve.ts) closes with a runtime's last CURVE socket while handshakes
// of closing clients are still ending. It once unbound its socket while a receive was pending, so
// zeromq.js polled the socket on this thread while the unbind ran on a libuv pool thread: libzmq
// processed the socket's commands on both at once and aborted the whole process ("erased" in
// socket_base.cpp, or pipe.cpp's term ack) — a driver (the kernel) killed by a PE process dying.
// This repeats that moment many times in one process; with the race, about one run in three
// aborted (vitest then reports the fork as exited unexpectedly).
import { afterEach, expect, it } from "vitest";
import * as zmq from "zeromq";
import { curveClient, curveServer, curveServerClosed, newCurveKeys, releaseCurveServer } from "../../runtime/transport/curve.ts";

const ROUNDS = 300;
const CLIENTS = 24;

const open: zmq.Socket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

it(`a runtime's CURVE sockets closing while ${CLIENTS} clients' handshakes end, ${ROUNDS} times: each new handler admits its clients, and the process lives`, async () => {
  let delivered = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const keys = newCurveKeys(); // each round a new runtime, with keys of its own
    const server = new zmq.Pull({ linger: 0, ...(await curveServer(keys)) });
    open.push(server);
    await server.bind("tcp://127.0.0.1:*");
    const clients = Array.from({ length: CLIENTS }, () => {
      const client = new zmq.Push({ linger: 0, ...curveClient(keys) });
      open.push(client);
      client.connect(server.lastEndpoint!);
      return client;
    });
    await Promise.all(clients.map((c) => c.send(`round ${round}`)));
    for (let i = 0; i < CLIENTS; i++) {
      expect(String(await server.receive())).toBe(`round ${round}`);
      delivered++;
    }
    // The clients' sessions (and their ZAP pipes) end while the handler is released.
    for (const socket of open.splice(0)) if (socket !== server) socket.close();
    releaseCurveServer();
    server.close();
    await curveServerClosed();
  }
  expect(delivered).toBe(ROUNDS * CLIENTS);
}, 120_000);
