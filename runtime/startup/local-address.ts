/** Which address of this host other PEs can reach it on: the interface that routes toward the driver. */
import { createSocket } from "node:dgram";
import { lookup } from "node:dns/promises";

const LOOPBACK = /^(127\.|localhost$|::1$|\[::1\]$)/;

/**
 * The local address of the interface this host uses to reach `endpoint`'s host (tcp://HOST:PORT):
 * 127.0.0.1 for a driver on loopback. Connecting a UDP socket picks the route without sending
 * anything.
 */
export async function localAddressToward(endpoint: string): Promise<string> {
  const host = endpoint.replace(/^tcp:\/\//, "").replace(/:\d+$/, "");
  if (LOOPBACK.test(host)) return "127.0.0.1";
  const { address, family } = await lookup(host.replace(/^\[|\]$/g, ""));
  const probe = createSocket(family === 6 ? "udp6" : "udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.connect(9, address, () => resolve());
    });
    return probe.address().address;
  } finally {
    probe.close();
  }
}
