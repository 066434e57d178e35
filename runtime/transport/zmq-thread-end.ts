/**
 * The end of a worker thread that sends over ZeroMQ (a PE thread of a process hosting several,
 * pe/thread-joins.ts). zeromq.js sends a buffer of over 128 bytes without copying it, and
 * ZeroMQ's own threads hand it back, once sent or dropped, to the thread's instance of the
 * addon. If the thread's environment is torn down first, that hand-back writes into freed memory
 * and glibc aborts the whole process ("corrupted double-linked list"): a chare's process.exit
 * took its sibling PEs with it, and a script stopped amid traffic left glibc's report on the
 * terminal. (zeromq.js#411 is the same family.) So as the thread ends, what ZeroMQ still queues
 * for other PEs is dropped (they are stopping, or this PE is gone to them), what it queues for
 * the driver (the last output) is still delivered, and the thread waits a moment for ZeroMQ to
 * hand it all back before its environment goes.
 */
import { DRIVER, type Endpoint } from "../protocol/ids.ts";
import type { ZmqTransport } from "./zmq-transport.ts";

// How long a thread's end waits for ZeroMQ's threads to hand back what its closed sockets held:
// 10 ms was enough in 80 of 80 runs that ended a thread amid traffic; 50 leaves room on a loaded
// machine. Only a thread's end pays it.
const HAND_BACK_MS = 50;

/** Whether what ZeroMQ queues for `peer` is dropped as this thread stops: all but the driver's. */
export const dropAtEnd = (peer: Endpoint): boolean => peer !== DRIVER;

// The thread's one handler: registered again, it moves to the end of the exit handlers.
let atExit: (() => void) | undefined;

/**
 * Closes `far` as the thread ends (its natural end once stopped, process.exit in a chare, an
 * uncaught exception) and waits for ZeroMQ to hand back what it held. Call it again once the
 * PE has booted: the wait then runs after the PE's own exit handlers (its last output).
 */
export function closeAtThreadEnd(far: ZmqTransport): void {
  if (atExit) process.removeListener("exit", atExit);
  atExit = () => {
    far.flush();
    far.close(dropAtEnd);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, HAND_BACK_MS);
  };
  process.on("exit", atExit);
}
