/** charm4ts: Charm4Py's programming model in TypeScript. What programs, chares and cells import. */
export { charm, type StartOptions, type MainFunction } from "./charm.ts";
export { Chare } from "./core/chare.ts";
export { Future } from "./core/future.ts";
export { Channel } from "./channels/channel.ts";
export { Reducer, type ReducerName, type ReducerFn } from "./collectives/reducers.ts";
export { ArrayMap } from "./core/array-map.ts";
export { CharmError, PeLostError, RemoteError } from "./protocol/errors.ts";
export { barChart, lineChart, Chart, type SeriesSet, type BarOptions, type LineOptions } from "./presentation/chart.ts";
export type { ReductionTarget } from "./collectives/reduction.ts";
export type { ArrayOptions, ChareOptions } from "./core/create.ts";
export type { Index } from "./protocol/ids.ts";
export type {
  ElementProxy, CollectionProxy, ChareProxy, AnyProxy, ElementCall, BroadcastCall, EntryMethodNames,
  SectionProxy, ChareOf,
} from "./core/proxy-types.ts";
export type { SplitOptions } from "./sections/split.ts";
export { greedy, refine, orb, rotate, random, type LoadStats, type ObjectLoad, type MigrationPlan, type Strategy } from "./lb/strategies.ts";
export type { BalancingRound } from "./lb/balancer.ts";
