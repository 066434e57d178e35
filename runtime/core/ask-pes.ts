/**
 * Runtime queries that ask every PE (status, tracing): one future per PE, so a dead PE can't
 * leave the query waiting forever. A PE known dead isn't asked; one that dies before answering
 * rejects its own future (failure.ts), and the query answers with what the live PEs said.
 */
import { Future } from "./future.ts";
import { rt } from "./current.ts";
import { PeLostError } from "../protocol/errors.ts";
import type { FutureId } from "../protocol/ids.ts";
import type { Message } from "../protocol/messages.ts";

/** Every PE's answer to a query, and the PEs that are dead, with why. */
export interface PeAnswers<T> {
  /** The live PEs' answers, in PE order. */
  answers: T[];
  /** Dead PEs and why ("exited with code 1"). */
  dead: Map<number, string>;
}

/** Sends `ask(fid)` to every live PE and gathers their answers; dead PEs are marked, not waited for. */
export async function askEveryPe<T>(ask: (fid: FutureId) => Message, label: string): Promise<PeAnswers<T>> {
  const runtime = rt();
  const dead = new Map<number, string>();
  const replies = Array.from({ length: runtime.numPes }, async (_, pe): Promise<T[]> => {
    const why = runtime.failures.dead.get(pe);
    if (why !== undefined) { dead.set(pe, why); return []; }
    const reply = new Future<T>();
    const state = runtime.futures.get(reply.id)!;
    state.label = `${label} (PE ${pe})`;
    state.on = pe; // its death rejects this future
    state.internal = true; // ... and the answer marks the PE dead: the program hasn't heard of the loss
    runtime.send(pe, ask(reply.id));
    try {
      return [await reply];
    } catch (err) {
      if (!(err instanceof PeLostError)) throw err;
      dead.set(pe, err.why);
      return [];
    }
  });
  const answers = (await Promise.all(replies)).flat();
  return { answers, dead: new Map([...dead].sort(([a], [b]) => a - b)) };
}
