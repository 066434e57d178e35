/**
 * Where an endpoint's runtime is put together: the one table that says which subsystem handles
 * each message type. A message type added to protocol/messages.ts doesn't compile until it has a
 * line here.
 */
import { noteInterruptedCause } from "./core/cell-context.ts";
import { DRIVER, type FutureId } from "./protocol/ids.ts";
import { errorToData } from "./protocol/errors.ts";
import { decode } from "./protocol/codec.ts";
import type { Transport } from "./transport/transport.ts";
import type { Handlers } from "./core/scheduler.ts";
import { Runtime, type RuntimeHooks } from "./core/runtime.ts";
import { failLocal, sendToFuture, settleLocal } from "./core/future.ts";
import { immigrate } from "./core/migration.ts";
import { forgetCollection } from "./core/destroy.ts";
import { peStatus } from "./presentation/status.ts";
import { checkpointStep } from "./checkpoint/steps.ts";

/** What each message type does on the endpoint `rt`. */
export function messageHandlers(rt: Runtime): Handlers {
  return {
    create: (m) => rt.runner.create(m),
    created: (m) => rt.creations.created(m.cid, m.pe, m.n, m.e),
    invoke: (m) => rt.runner.invoke(m),
    bcast: (m) => rt.runner.broadcast(m),
    resolve: (m) => settleDecoded(rt, m.fid, m.v, m.r),
    reject: (m) => failLocal(m.fid, m.e),
    contrib: (m) => rt.reductions.receivePartial(m),
    down: (m) => rt.reductions.receiveResult(m),
    chan: (m) => rt.runner.channelMessage(m),
    qdProbe: (m) => rt.quiescence.answer(m.wave),
    qdCount: (m) => rt.quiescence.count(m.wave, m.sent, m.recv, m.susp),
    qdStart: (m) => rt.quiescence.startQD(m.target),
    report: (m) => rt.reportUnhandled(m.e),
    stop: () => rt.hooks.onStop?.(),
    ready: (m) => rt.hooks.onReady?.(m.pe, m.error),
    exit: (m) => rt.hooks.onExit?.(m.code, m.reason),
    ping: (m) => rt.send(DRIVER, { t: "pong", n: m.n, pe: rt.self }),
    pong: (m) => rt.hooks.onPong?.(m.pe),
    define: (m) => rt.hooks.onDefine?.(m.code, m.fid, m.plain === 1),
    status: (m) => sendToFuture(m.fid, peStatus(rt)),
    destroy: (m) => sendToFuture(m.fid, forgetCollection(rt, m.cid)),
    echo: (m) => sendToFuture(m.fid, rt.self),
    cellInterrupted: (m) => noteInterruptedCause(m.cause),
    trace: (m) => sendToFuture(m.fid, rt.tracer.toggle(m.on)),
    output: (m, cause) => {
      if (rt.hooks.onOutput) rt.hooks.onOutput(m.stream, m.text, cause, m.pe, m.dropped);
      else if (m.text) process[m.stream].write(m.text);
    },
    peDead: (m) => rt.failures.heard(m.pe, m.why),
    heardOf: (m) => sendToFuture(m.fid, rt.failures.rejectedFor(m.pes)),
    counters: (m) => sendToFuture(m.fid, [rt.self, rt.collectionCount]),
    replaced: (m) => rt.failures.replaced(m.r),
    peer: (m) => {
      rt.transport.replacePeer?.(m.pe, m.port);
      rt.scheduler.traffic.forget(m.pe); // the old incarnation's traffic, up to its port's closing
    },
    migrate: (m) => immigrate(rt, m),
    ckpt: (m) => checkpointStep(rt, m),
    moved: (m) => rt.balancing.moved(m),
    atSync: (m) => rt.balancing.receiveLoads(m),
    lbPlan: (m) => rt.balancing.applyPlan(m),
    lbHistory: (m) => rt.balancing.sendHistory(m.cid, m.fid),
    section: (m) => { rt.sections.define(m.def); },
    census: (m) => rt.census.answer(m.cid, m.from),
    censusCount: (m) => rt.census.count(m.cid, m.pe, m.n),
    members: (m) => { rt.census.totals.set(m.cid, m.n); rt.reductions.totalKnown(m.cid); },
  };
}

/**
 * A future's value arrived: settles the future with it, or, when this endpoint can't rebuild it
 * (an instance of a class not registered here), rejects the future with the reason, so whoever
 * awaits it is told rather than left waiting.
 */
function settleDecoded(rt: Runtime, fid: FutureId, v: unknown, r: 1 | undefined): void {
  if (!r) return settleLocal(fid, v);
  let value: unknown;
  try {
    value = decode(v);
  } catch (err) {
    if (!rt.futures.has(fid)) throw err; // completed already (or never existed): reported as before
    return failLocal(fid, errorToData(err, rt.self, undefined, "a value sent to this future"));
  }
  settleLocal(fid, value);
}

/** A runtime for endpoint `self` with every message type's handler installed. */
export function assembleRuntime(self: number, numPes: number, transport: Transport, hooks: RuntimeHooks, incarnation = 0): Runtime {
  return new Runtime(self, numPes, transport, hooks, messageHandlers, incarnation);
}
