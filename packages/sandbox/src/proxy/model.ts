/**
 * The model proxy: how Claude Code inside a sandbox reaches the Messages API without the
 * API key ever entering the sandbox. It listens on a unix socket bound into the
 * sandbox, forwards only the Messages API (`POST /v1/messages`, `…/count_tokens`) to the
 * runner's configured endpoint and adds the key there. Anything else is refused.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";

export interface ModelProxyOptions {
  socketPath: string;
  /** The real endpoint, e.g. https://api.anthropic.com (a path prefix is kept). */
  baseURL: string;
  apiKey: string;
}

const ALLOWED = new Set(["/v1/messages", "/v1/messages/count_tokens"]);
// What the sandboxed client may not choose: credentials, and what only the proxy decides.
const DROPPED = new Set(["authorization", "x-api-key", "host", "connection", "keep-alive", "proxy-authorization", "transfer-encoding", "upgrade"]);

/** The placeholder the sandboxed client sends as its key; the proxy replaces it. */
export const MODEL_PROXY_KEY = "sk-ant-agentboard-model-proxy";

export class ModelProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly base: URL;

  constructor(private readonly opts: ModelProxyOptions) {
    this.base = new URL(opts.baseURL);
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.opts.socketPath, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const incoming = new URL(req.url ?? "/", "http://sandbox");
    if (req.method !== "POST" || !ALLOWED.has(incoming.pathname)) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          type: "error",
          error: { type: "not_found_error", message: `the agentboard model proxy only forwards the Messages API, not ${req.method} ${incoming.pathname}` },
        }),
      );
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROPPED.has(k)) headers[k] = v;
    headers["x-api-key"] = this.opts.apiKey;
    const prefix = this.base.pathname.replace(/\/+$/, "");
    const send = this.base.protocol === "https:" ? httpsRequest : httpRequest;
    const upstream = send(
      {
        protocol: this.base.protocol,
        hostname: this.base.hostname,
        port: this.base.port || undefined,
        method: "POST",
        path: `${prefix}${incoming.pathname}${incoming.search}`,
        headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "error", error: { type: "api_error", message: `the model endpoint is unreachable: ${err.message}` } }));
    });
    req.pipe(upstream);
  }
}
