// How @jupyterlab/services reaches a Jupyter server the tests started (Node has no browser WebSocket).
import { ServerConnection } from "@jupyterlab/services";
import WebSocket from "ws";
import type { JupyterServer } from "./jupyter-env.ts";

/** Connection settings for `server`: its URLs and token, the `ws` package's WebSocket, Node's fetch. */
export function labSettings(server: JupyterServer): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl: server.baseUrl,
    wsUrl: server.baseUrl.replace(/^http/, "ws"),
    token: server.token,
    appendToken: true,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    fetch: globalThis.fetch,
  });
}
