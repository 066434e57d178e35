/**
 * Topology queries (Charm4Py's charm.numHosts, getHostPes, …). Local PEs are threads of one
 * process on one host; remote PEs (a later transport) will report their own hosts here.
 */
import { hostname } from "node:os";
import { CharmError } from "../protocol/errors.ts";
import { rt } from "./current.ts";

function checkHost(host: number): void {
  if (host !== 0) throw new CharmError(`host ${host} doesn't exist: this runtime's ${rt().numPes} PEs all run on host 0 (${hostname()})`);
}

/** Topology of the running PEs. */
export const topology = {
  /** Number of hosts (machines) the PEs run on. */
  numHosts: (): number => (rt(), 1),
  /** This endpoint's host. */
  myHost: (): number => (rt(), 0),
  /** A host's name. */
  hostName: (host = 0): string => (checkHost(host), hostname()),
  /** The PEs on a host, in order. */
  getHostPes: (host: number): number[] => (checkHost(host), Array.from({ length: rt().numPes }, (_, i) => i)),
  /** The first PE on a host. */
  getHostFirstPe: (host: number): number => (checkHost(host), 0),
  /** How many PEs a host has. */
  getHostNumPes: (host: number): number => (checkHost(host), rt().numPes),
  /** The host a PE runs on. */
  getPeHost(pe: number): number {
    if (!Number.isInteger(pe) || pe < 0 || pe >= rt().numPes) throw new CharmError(`PE ${pe} doesn't exist (PEs are 0…${rt().numPes - 1})`);
    return 0;
  },
  /** A PE's rank among its host's PEs. */
  getPeHostRank: (pe: number): number => (topology.getPeHost(pe), pe),
};
