/** TCP endpoint strings for ZeroMQ: what to bind to, and what to tell peers to connect to. */
import { hostname } from "node:os";

/** `tcp://HOST:*` — a free port on the interface `host` (IPv6 addresses in brackets). */
export function bindEndpoint(host: string): string {
  return `tcp://${host.includes(":") ? `[${host}]` : host}:*`;
}

/** The address peers connect to: the bound one, except that every-interface binds give this host's name. */
export function advertisedEndpoint(bound: string): string {
  return bound.replace(/^tcp:\/\/(0\.0\.0\.0|\[::\]):/, `tcp://${hostname()}:`);
}
