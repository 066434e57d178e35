/**
 * charmrun's PE threads, spawned before it compiles and loads the program (driver/prestart.ts):
 * they load the runtime while this thread loads the program, and the program's `charm.start`
 * adopts them if it asks for as many PEs with the same heap limit; otherwise that start ends them
 * and spawns its own. Only where the start will surely want local threads: with PE processes
 * (+processes, +mixed, hosts) or a checkpoint to restore, charmrun starts nothing early.
 */
import { MOST_PES_STARTED_AHEAD, offerPrestarted, prestartPeThreads } from "../driver/prestart.ts";
import { defaultPeCount } from "../pe-count.ts";

/**
 * How many PE threads to start ahead, given the environment charmrun's flags have set (+pN is
 * CHARM4TS_PES by then); undefined when the start would want something else or the count is invalid.
 */
export function threadsAhead(env: NodeJS.ProcessEnv): number | undefined {
  const transport = env.CHARM4TS_TRANSPORT;
  if ((transport && transport !== "threads") || env.CHARM4TS_HOSTS || env.CHARM4TS_RESTART) return undefined;
  const { count } = defaultPeCount(env);
  return Number.isInteger(count) && count >= 1 && count <= MOST_PES_STARTED_AHEAD ? count : undefined;
}

/** Spawns the PE threads `threadsAhead` allows and offers them to this thread's next start; returns how many. */
export function startThreadsAhead(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const numPes = threadsAhead(env);
  const started = numPes === undefined ? undefined : prestartPeThreads(numPes);
  if (!started) return undefined;
  // The driver is this very thread: the handoff's ports stay here, nothing to transfer.
  offerPrestarted(started.handoff);
  return numPes;
}
