import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { appRouter } from "./root.js";
import { checkHealth } from "./services/health.js";
import type { ApiCore } from "./server.js";

export interface ApiHttpOptions {
  /** Reads a token from the request when there is no Authorization header (browser sessions). */
  tokenFromRequest?: (req: IncomingMessage) => string | undefined;
  onInternalError?: (path: string | undefined, err: unknown) => void;
}

export interface ApiHttpHandler {
  handles(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/**
 * The API over HTTP: tRPC at /api/trpc/ (batching, streaming, SSE subscriptions) and
 * GET /api/health. Mounted by the web server; tests and benchmarks mount it alone.
 */
export function createApiHttpHandler(core: ApiCore, opts: ApiHttpOptions = {}): ApiHttpHandler {
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/api/trpc/",
    createContext: ({ req }) => {
      const header = req.headers.authorization;
      const fallback = header ? undefined : opts.tokenFromRequest?.(req);
      return core.createContext({ authorization: header ?? (fallback ? `Bearer ${fallback}` : null) });
    },
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") opts.onInternalError?.(path, error.cause ?? error);
    },
  });
  return {
    handles(req) {
      const url = req.url ?? "";
      return url.startsWith("/api/trpc/") || url === "/api/health" || url.startsWith("/api/health?");
    },
    handle(req, res) {
      if ((req.url ?? "").startsWith("/api/health")) {
        checkHealth(core.deps)
          .then((body) => {
            res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
            res.end(JSON.stringify(body));
          })
          .catch(() => {
            res.writeHead(503, { "content-type": "application/json" });
            res.end(JSON.stringify({ status: "error", db: core.deps.db.provider }));
          });
        return;
      }
      void trpc(req, res);
    },
  };
}

/**
 * Keeps idle keep-alive connections open longer than clients do (undici: 4 s), so a
 * client never sends a request on a socket the server is closing ("other side closed").
 */
export function keepConnectionsAlive(server: Server): void {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
}

/** An HTTP server with only the API, on 127.0.0.1 and a free port unless told otherwise. */
export async function listenApi(core: ApiCore, opts: ApiHttpOptions & { port?: number; host?: string } = {}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const handler = createApiHttpHandler(core, opts);
  const server = createServer((req, res) => {
    if (handler.handles(req)) return handler.handle(req, res);
    res.writeHead(404).end();
  });
  keepConnectionsAlive(server);
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, host, resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
