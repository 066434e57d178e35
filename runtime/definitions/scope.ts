/** The names definition scripts see on a PE: the runtime's public API, as cells see it. */
import { charm } from "../charm.ts";
import { Chare } from "../core/chare.ts";
import { Future } from "../core/future.ts";
import { Channel } from "../channels/channel.ts";
import { Reducer } from "../collectives/reducers.ts";
import { ArrayMap } from "../core/array-map.ts";
import { CharmError, RemoteError } from "../protocol/errors.ts";

/** The globals installed on a thread before it evaluates definition scripts. */
export function definitionScope(): Record<string, unknown> {
  return { charm, Chare, Future, Channel, Reducer, ArrayMap, CharmError, RemoteError };
}
