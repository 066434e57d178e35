/** The transports the transport-independent suites run over (`describe.each(TRANSPORTS)`). */
export const TRANSPORTS = ["threads", "processes"] as const;

/** What the PEs are: worker threads of the test's process, or processes of their own over ZeroMQ TCP. */
export type TransportName = (typeof TRANSPORTS)[number];
