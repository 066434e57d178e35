/**
 * A PE's thread: builds its runtime over the ports the driver handed it, loads the program's
 * modules (registering the chare classes they export), tells the driver it is ready, and then
 * just handles messages until told to stop.
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { DRIVER, type Endpoint } from "../protocol/ids.ts";
import { errorToData } from "../protocol/errors.ts";
import { PortTransport } from "../transport/port-transport.ts";
import { Runtime } from "../core/runtime.ts";
import { setRuntime } from "../core/current.ts";
import { registerModuleExports } from "./exports.ts";
import { DefinitionEvaluator } from "../interactive/definitions.ts";
import { definitionScope } from "../interactive/scope.ts";
import { rejectFuture, sendToFuture } from "../core/future.ts";
import { printThroughDriver } from "./print-through-driver.ts";

/** What the driver passes to each PE thread. */
export interface PeWorkerData {
  charm4tsPe: true;
  pe: Endpoint;
  numPes: number;
  modules: string[];
  /** Interactive definition scripts so far, replayed before this PE reports ready. */
  definitions: string[];
  interactive: boolean;
  balancer?: string;
  ports: Array<[Endpoint, MessagePort]>;
}

const data = workerData as PeWorkerData;
const definitions = new DefinitionEvaluator(definitionScope());
const transport = new PortTransport(data.pe, new Map(data.ports));
const runtime = new Runtime(data.pe, data.numPes, transport, {
  onUnhandled: () => undefined, // PEs forward errors to the driver; never called here
  onStop: () => {
    transport.flush();
    transport.close();
    parentPort?.close();
    setRuntime(undefined);
  },
  onDefine: (code, fid) => {
    definitions.run(code).then(
      () => sendToFuture(fid, null),
      (err) => rejectFuture(fid, errorToData(err, data.pe, "a notebook definition")),
    );
  },
});
setRuntime(runtime);
if (data.balancer) runtime.defaultBalancer = data.balancer;
if (data.interactive) {
  printThroughDriver(runtime);
  runtime.host.interactive = true;
}

try {
  for (const url of data.modules) registerModuleExports(await import(url));
  for (const code of data.definitions) await definitions.run(code);
  transport.send(DRIVER, { t: "ready", pe: data.pe });
} catch (err) {
  transport.send(DRIVER, { t: "ready", pe: data.pe, error: errorToData(err, data.pe) });
}
transport.flush();
