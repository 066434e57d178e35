/**
 * What every PE does at start, whatever carries its messages (a worker thread's MessagePorts, a
 * process's ZeroMQ sockets): builds its runtime, loads the program's modules (registering the
 * chare classes they export), replays the notebook's definitions, and tells the driver it is
 * ready — or why it isn't.
 */
import { takeUpgradeNotes } from "../definitions/new-fields.ts";
import { DRIVER } from "../protocol/ids.ts";
import type { PeConfig } from "../protocol/join.ts";
import { errorToData } from "../protocol/errors.ts";
import type { Transport } from "../transport/transport.ts";
import type { Runtime } from "../core/runtime.ts";
import { assembleRuntime } from "../assemble.ts";
import { setRuntime } from "../core/current.ts";
import { registerModuleExports } from "./exports.ts";
import { DefinitionEvaluator } from "../definitions/evaluate.ts";
import { definitionScope } from "../definitions/scope.ts";
import { rejectFuture, sendToFuture } from "../core/future.ts";
import { printThroughDriver } from "./print-through-driver.ts";
import { reportLateErrors } from "./late-errors.ts";

export type { PeConfig };

/** Starts this PE's runtime over `transport`; `onStop` runs when the driver says "stop". */
export async function bootPe(config: PeConfig, transport: Transport, onStop: () => void): Promise<Runtime> {
  const definitions = new DefinitionEvaluator(definitionScope());
  const runtime = assembleRuntime(config.pe, config.numPes, transport, {
    onUnhandled: () => undefined, // PEs forward errors to the driver; never called here
    onStop: () => {
      onStop();
      setRuntime(undefined);
    },
    onDefine: (code, fid, plain) => {
      const running = plain ? definitions.runPlain(code) : definitions.run(code);
      // The script ran inside run(), synchronously: what its upgrades did is known now.
      const upgrades = takeUpgradeNotes();
      running.then(
        () => sendToFuture(fid, upgrades.length > 0 ? upgrades : null),
        (err) => rejectFuture(fid, errorToData(err, config.pe, "a notebook definition")),
      );
    },
  }, config.restart?.incarnation);
  for (const r of config.restart?.replacements ?? []) runtime.failures.replaced(r);
  setRuntime(runtime);
  // Before the program's modules load: a timer they start may throw too.
  reportLateErrors(runtime);
  if (config.balancer) runtime.defaultBalancer = config.balancer;
  if (config.interactive) {
    printThroughDriver(runtime);
    runtime.runner.interactive = true;
  }
  // The program's errors then name its .ts lines (charmrun compiles it with an inline source
  // map); turned on only now, so the runtime's own bundles, loaded already, aren't mapped.
  if (config.modules.length > 0) process.setSourceMapsEnabled(true);
  try {
    for (const url of config.modules) registerModuleExports(await import(url));
    for (const code of config.definitions) await definitions.run(code);
    transport.send(DRIVER, { t: "ready", pe: config.pe });
  } catch (err) {
    transport.send(DRIVER, { t: "ready", pe: config.pe, error: errorToData(err, config.pe) });
  }
  transport.flush();
  return runtime;
}
