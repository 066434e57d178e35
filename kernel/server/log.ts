/** The kernel's log: lines on stderr, which the frontend's server shows in its own log. */

/** Writes a kernel log line to stderr (the frontend's server log). */
export function log(message: string): void {
  process.stderr.write(`[charm4ts kernel] ${message}\n`);
}
