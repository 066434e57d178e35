// The largest frame the kernel's sockets accept. libzmq checks each frame's length as it starts to
// arrive and disconnects a peer that announces more, so an oversized frame is never buffered, let
// alone signature-checked or parsed. Kept free of zeromq so the kernel reads it before loading it.

const MIB = 2 ** 20;
// Well above what frontends send (a Jupyter server forwards 10 MiB websocket messages unless
// configured higher, often to a few hundred MiB for widget buffers), well below exhausting memory.
const DEFAULT_MAX_MESSAGE_MB = 256;

/** The largest frame in bytes: `CHARM4TS_MAX_MESSAGE_MB` MiB (default 256); throws naming the variable. */
export function maxMessageBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CHARM4TS_MAX_MESSAGE_MB;
  if (raw === undefined || raw.trim() === "") return DEFAULT_MAX_MESSAGE_MB * MIB;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb <= 0) {
    throw new Error(`CHARM4TS_MAX_MESSAGE_MB must be a positive number of MiB (default ${DEFAULT_MAX_MESSAGE_MB}), not "${raw}"`);
  }
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, Math.floor(mb * MIB)));
}
