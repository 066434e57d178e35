/**
 * A process that hosts one PE (on its main thread; pe-host.ts hosts several) and joins a runtime over ZeroMQ TCP: binds its receiving socket,
 * says hello to the driver's rendezvous socket with the runtime's secret and its rank (from the
 * launcher's environment, if any), gets its PE number and everyone's addresses, loads the
 * program's modules like a PE thread does, and handles messages until the driver says stop —
 * or until it loses the driver. Started by `charm4ts-pe` (process-main.ts), by the driver, or
 * by charmrun on ranks 1 … N-1 under mpirun/srun.
 */
import { hostname } from "node:os";
import { DRIVER } from "../protocol/ids.ts";
import { errorToData } from "../protocol/errors.ts";
import { ZmqTransport } from "../transport/zmq-transport.ts";
import { bootPe } from "./pe-boot.ts";
import { joinRuntime } from "../startup/rendezvous.ts";
import { rankFromEnv } from "../startup/launcher-env.ts";
import { SECRET_ENV, decodeSecret } from "../startup/secret.ts";
import { localAddressToward } from "../startup/local-address.ts";
import { markPeProcess } from "../startup/role.ts";
import { muteOnClosedPipe, onClosedPipe } from "../startup/closed-pipes.ts";

/** How a PE process finds and joins its runtime. */
export interface PeProcessOptions {
  /** The driver's rendezvous address, tcp://HOST:PORT. */
  connect: string;
  /** The runtime's secret, as the driver encoded it (startup/secret.ts). */
  secret: string;
  /** This host's address other PEs reach it on (default: the interface toward the driver). */
  bind?: string;
  /** How many PEs this process hosts (default 1; more run as worker threads, pe-host.ts). */
  pes?: number;
}

const JOIN_TIMEOUT_MS = 60_000;

/** Joins the runtime and runs this process's PE(s); the process exits when they stop. */
export async function runPeProcess(options: PeProcessOptions): Promise<void> {
  muteOnClosedPipe(); // `charmrun +processes prog.ts | head -1`
  if ((options.pes ?? 1) > 1) {
    const { runPeHost } = await import("./pe-host.ts");
    return runPeHost(options, options.pes!);
  }
  const rendezvous = options.connect;
  const { token, curve } = decodeSecret(options.secret);
  // Children this process may start must not inherit the secret.
  delete process.env[SECRET_ENV];
  const rank = rankFromEnv();
  const transport = await ZmqTransport.bind({ host: options.bind ?? (await localAddressToward(rendezvous)), curve, onError: (e) => report(e) });
  let joined;
  try {
    joined = await joinRuntime(rendezvous, { secret: token, rank, addresses: [transport.address], host: hostname(), pid: process.pid }, JOIN_TIMEOUT_MS, curve);
  } catch (err) {
    transport.close();
    throw err;
  }
  const { config, peers, socket } = joined;
  transport.join(config.pe, peers.map((address, i) => [i - 1, address]), config.sendTimeoutMs);
  markPeProcess();

  // An exception outside any entry method is reported and the PE lives on (pe-boot.ts), as on a
  // PE thread; failures without a caller (a batch that can't be encoded) are reported here.
  let stopping = false;
  function report(err: Error): void {
    transport.send(DRIVER, { t: "report", e: errorToData(err, config.pe) });
  }

  // Without its driver a PE has nothing to do: a closed rendezvous connection (the driver exited
  // or was killed, or its host stopped answering heartbeats) ends this process.
  socket.events.on("disconnect", () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`charm4ts-pe: PE ${config.pe} lost the driver at ${rendezvous}; exiting\n`);
    process.exit(1);
  });

  const runtime = await bootPe(config, transport, () => {
    stopping = true;
    void transport.drained().then(() => {
      transport.close();
      socket.close();
      process.exit(0);
    });
  });
  // Its output's reader is gone (`| head`): the program ends, exit 0, as the driver's own would.
  onClosedPipe(() => { runtime.send(DRIVER, { t: "exit", code: 0 }); transport.flush(); });
}
