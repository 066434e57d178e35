/**
 * `charmrun +p2 prog.ts | head -1`: once `head` has its line it closes the pipe, and the next
 * write to stdout fails with EPIPE. PE threads' output reaches process.stdout through Node's
 * worker stdio pipes, so that error lands on the driver's stream with nobody listening, and an
 * unhandled 'error' event crashes the process with Node's internal frames. A Unix tool ends
 * quietly instead (SIGPIPE); Node ignores SIGPIPE, so this does it by hand.
 */

// One handler per process, though charmrun and the runtime are separate bundles that both install it.
const INSTALLED = Symbol.for("charm4ts.endOnClosedPipe");
// How the process ends then: the runtime puts its orderly exit here once it runs (a process.exit
// while this process's PE threads wait on ZeroMQ sockets, +mixed, aborts it: zeromq.js#411).
const ENDING = Symbol.for("charm4ts.endOnClosedPipe.end");

/** Ends the program quietly with exit code 0 when its stdout or stderr pipe is closed by the reader. */
export function endOnClosedPipe(): void {
  const slot = globalThis as Record<symbol, unknown>;
  if (slot[INSTALLED]) return;
  slot[INSTALLED] = true;
  let ending = false;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      // Any other error keeps Node's default: thrown, as if there were no listener.
      if (err.code !== "EPIPE") throw err;
      stream.write = (() => true) as typeof stream.write; // what is still printed goes nowhere
      if (ending) return;
      ending = true;
      // Exit 0, as a Unix tool ends on SIGPIPE: the reader took what it wanted.
      const end = slot[ENDING] as (() => void) | undefined;
      if (end) end();
      else process.exit(0);
    });
  }
}

/** What ends the program when its pipe closes, instead of process.exit(0) (the runtime's orderly exit). */
export function onClosedPipe(end: () => void): void {
  (globalThis as Record<symbol, unknown>)[ENDING] = end;
}

/**
 * In a PE process (+processes), whose stdout and stderr are the driver's own: once the reader
 * closed the pipe, what the PE prints goes nowhere, quietly, and the PE asks the driver to end
 * the program with exit 0 (what `onClosedPipe` set; the PE process sets the runtime's exit).
 * Before, the EPIPE was reported to the driver as the PE's unhandled error, and the run ended
 * with exit 1.
 */
export function muteOnClosedPipe(): void {
  let told = false;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
      stream.write = (() => true) as typeof stream.write;
      const end = (globalThis as Record<symbol, unknown>)[ENDING] as (() => void) | undefined;
      if (end && !told) { told = true; end(); }
    });
  }
}
