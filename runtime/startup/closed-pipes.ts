/**
 * `charmrun +p2 prog.ts | head -1`: once `head` has its line it closes the pipe, and the next
 * write to stdout fails with EPIPE. PE threads' output reaches process.stdout through Node's
 * worker stdio pipes, so that error lands on the driver's stream with nobody listening, and an
 * unhandled 'error' event crashes the process with Node's internal frames. A Unix tool ends
 * quietly instead (SIGPIPE); Node ignores SIGPIPE, so this does it by hand.
 */

// One handler per process, though charmrun and the runtime are separate bundles that both install it.
const INSTALLED = Symbol.for("charm4ts.endOnClosedPipe");

/** Ends the process quietly with exit code 0 when its stdout or stderr pipe is closed by the reader. */
export function endOnClosedPipe(): void {
  const slot = globalThis as Record<symbol, unknown>;
  if (slot[INSTALLED]) return;
  slot[INSTALLED] = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      // Exit 0, as a run whose PE processes (+processes) lose their pipe ends: the reader took what it wanted.
      if (err.code === "EPIPE") process.exit(0);
      // Any other error keeps Node's default: thrown, as if there were no listener.
      throw err;
    });
  }
}
