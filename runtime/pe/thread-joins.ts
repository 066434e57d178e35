/**
 * Inside a PE thread that also reaches other processes (startup/start-joining-threads.ts has the parent's
 * side): binds its ZeroMQ socket, tells the parent its address, waits to learn its PE number,
 * the peers' addresses and its ports to this process's other endpoints, then runs its PE over
 * both — ports for threads here, ZeroMQ for the rest, never relayed through the parent.
 */
import { parentPort } from "node:worker_threads";
import { DRIVER } from "../protocol/ids.ts";
import { errorToData } from "../protocol/errors.ts";
import { PortTransport } from "../transport/port-transport.ts";
import { RoutedTransport } from "../transport/routed-transport.ts";
import { ZmqTransport } from "../transport/zmq-transport.ts";
import { closeAtThreadEnd, dropAtEnd } from "../transport/zmq-thread-end.ts";
import { bootPe } from "./pe-boot.ts";
import type { JoiningThreadData, ThreadAbort, ThreadNews, ThreadStart } from "../startup/start-joining-threads.ts";

/** Runs this thread's PE; the thread ends once the driver says stop (its sockets and ports closed). */
export async function runJoiningThread(data: JoiningThreadData): Promise<void> {
  const parent = parentPort!;
  let transport: RoutedTransport | undefined;
  let pe: number | undefined;
  // Failures without a caller (a batch that can't be encoded) go to the driver once there is a way.
  const report = (e: Error): void => {
    if (transport && pe !== undefined) transport.send(DRIVER, { t: "report", e: errorToData(e, pe) });
    else process.stderr.write(`charm4ts: ${e.message}\n`);
  };
  const far = await ZmqTransport.bind({ host: data.join.host, curve: data.join.curve, onError: report });
  // A thread that ends with a ZeroMQ receive pending, or a send ZeroMQ hasn't handed back, takes
  // the whole process down (zeromq.js#411): its sockets close as it ends (process.exit in a chare,
  // an uncaught exception), and it waits for ZeroMQ. Termination and running out of heap run no
  // JavaScript, so they still end the process (see pe-host.ts).
  closeAtThreadEnd(far);
  const started = new Promise<ThreadStart | ThreadAbort>((resolve) => parent.once("message", resolve));
  parent.postMessage({ t: "bound", address: far.address } satisfies ThreadNews);
  const start = await started;
  if (start.t === "abort") {
    far.close();
    parent.close();
    return;
  }
  const { config, peers, ports } = start;
  pe = config.pe;
  far.join(config.pe, peers.map((address, i) => [i - 1, address]), config.sendTimeoutMs);
  // Replies from the PE threads of this process may be caught by spinning (spin.ts); ZeroMQ's come by wake-up.
  transport = new RoutedTransport(new PortTransport(config.pe, new Map(ports), config.spinUs, config.awake), far);
  const routed = transport;
  await bootPe(config, routed, () => {
    parent.postMessage({ t: "stopping" } satisfies ThreadNews);
    // What is held for slow peers leaves first; then nothing keeps this thread alive. What ZeroMQ
    // still queues for other PEs is dropped: they are stopping too, and would keep it a second.
    void routed.drained().then(() => {
      far.close(dropAtEnd);
      routed.close();
      parent.close();
    });
  });
  closeAtThreadEnd(far); // again: its wait now comes after the PE's own exit handlers (its last output)
}
