/**
 * The checkpoint code, loaded when first used. Every PE thread loads charm.ts and the message
 * handlers, and what checkpoints need (node:crypto, fs/promises, zlib) costs ~20 ms of each
 * thread's start-up (a bare worker thread here: crypto 13 ms, fs/promises 6 ms): a program that
 * never checkpoints shouldn't pay it.
 */
type DriverSide = typeof import("./driver.ts");
type AutoSide = typeof import("./auto.ts");
type PeSide = typeof import("./step-work.ts");

let driverSide: DriverSide | undefined;
let autoSide: AutoSide | undefined;
let driverLoading: Promise<DriverSide> | undefined;
let autoLoading: Promise<AutoSide> | undefined;
let peLoading: Promise<PeSide> | undefined;

/** charm.checkpoint, restore and recover (the driver's side), loaded on first use. */
export function checkpointDriver(): Promise<DriverSide> {
  return (driverLoading ??= import("./driver.ts").then((m) => (driverSide = m)));
}

// The other two import driver.ts too, which keeps module state (the last in-memory checkpoint):
// loading it through checkpointDriver() as well makes shutdown find it (loadedDriver) to forget it.

/** Checkpoints at AtSync barriers and automatic recovery, loaded on first use. */
export function autoRecovery(): Promise<AutoSide> {
  return (autoLoading ??= Promise.all([import("./auto.ts"), checkpointDriver()]).then(([m]) => (autoSide = m)));
}

/** The steps a PE runs for the driver, loaded on first use (in order: every step waits for the same load). */
export function checkpointSteps(): Promise<PeSide> {
  return (peLoading ??= Promise.all([import("./step-work.ts"), checkpointDriver(), autoRecovery()]).then(([m]) => m));
}

/** The driver's side if it was loaded (nothing to forget otherwise). */
export function loadedDriver(): DriverSide | undefined {
  return driverSide;
}

/** Automatic recovery if it was loaded (then possibly armed). */
export function loadedAutoRecovery(): AutoSide | undefined {
  return autoSide;
}
