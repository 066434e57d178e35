/**
 * A host's chance to send something first: a one-shot function run right before this thread's
 * next send, whatever sends it. The notebook kernel uses it to send a changed top-level value to
 * the PEs ahead of the call that may read it (kernel/interactive/reassigned.ts). One per thread
 * (a module's state), so it outlives a `charm.restart()` between arming and the next send.
 */
let pending: (() => void) | undefined;

/** Runs `work` once, just before the next message this thread sends (replacing one armed before); it must not throw. */
export function beforeNextSend(work: () => void): void {
  pending = work;
}

/** Runs the armed work, if any (the scheduler, before it sends). What that work sends goes first. */
export function runBeforeSend(): void {
  const work = pending;
  if (work === undefined) return;
  pending = undefined; // before running: the work's own sends must not run it again
  work();
}
