import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { serveMutation, singleMutationPath } from "./http-mutation.js";
import { serveSubscription, subscriptionCall } from "./http-subscription.js";
import { appRouter } from "./root.js";
import { createRestHandler } from "./rest/handler.js";
import { createMcpHttpHandler } from "./mcp/http.js";
import { checkHealth } from "./services/health.js";
import type { ApiCore } from "./server.js";

export interface ApiHttpOptions {
  /** Reads a token from the request when there is no Authorization header (browser sessions). */
  tokenFromRequest?: (req: IncomingMessage) => string | undefined;
  onInternalError?: (path: string | undefined, err: unknown) => void;
  /**
   * Serve single mutations and subscriptions directly, without tRPC's fetch-API and
   * web-stream round trip (default true; see http-mutation.ts, http-subscription.ts).
   */
  direct?: boolean;
}

export interface ApiHttpHandler {
  handles(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

const BASE_PATH = "/api/trpc/";

/**
 * The largest request body accepted: a run's completion may carry a diff of up to 20 MB,
 * which JSON escaping can inflate. Larger bodies answer PAYLOAD_TOO_LARGE.
 */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Reads a body whose length is declared, so tRPC gets it as a string instead of wrapping
 * the request in a web stream (a measurable share of a small call's cost).
 */
function readDeclaredBody(req: IncomingMessage): Promise<string> | null {
  if (req.method !== "POST") return null;
  const length = Number(req.headers["content-length"]);
  if (!Number.isSafeInteger(length) || length > MAX_BODY_BYTES) return null;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/**
 * The API over HTTP: tRPC at /api/trpc/ (batching, streaming, SSE subscriptions), the REST
 * facade at /api/v1/ (rest/handler.ts), the MCP server at /api/mcp (mcp/http.ts) and
 * GET /api/health. Mounted by the web server; tests and benchmarks mount it alone.
 */
export function createApiHttpHandler(core: ApiCore, opts: ApiHttpOptions = {}): ApiHttpHandler {
  const createContext = (req: IncomingMessage) => {
    const header = req.headers.authorization;
    const fallback = header ? undefined : opts.tokenFromRequest?.(req);
    return core.createContext({ authorization: header ?? (fallback ? `Bearer ${fallback}` : null) });
  };
  const onError = (error: TRPCError, path: string | undefined) => {
    if (error.code === "INTERNAL_SERVER_ERROR") opts.onInternalError?.(path, error.cause ?? error);
  };
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: BASE_PATH,
    maxBodySize: MAX_BODY_BYTES,
    createContext: ({ req }) => createContext(req),
    onError: ({ error, path }) => onError(error, path),
  });
  const rest = createRestHandler(core, { maxBodyBytes: MAX_BODY_BYTES, onError });
  const mcp = createMcpHttpHandler(core, { maxBodyBytes: MAX_BODY_BYTES });
  return {
    handles(req) {
      const url = req.url ?? "";
      return url.startsWith("/api/trpc/") || url === "/api/health" || url.startsWith("/api/health?") || rest.handles(req) || mcp.handles(req);
    },
    handle(req, res) {
      if (rest.handles(req)) return rest.handle(req, res);
      if (mcp.handles(req)) return mcp.handle(req, res);
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
      const direct = opts.direct !== false;
      const subscription = direct ? subscriptionCall(req, BASE_PATH) : null;
      // Whatever escapes a direct path (nothing should) ends the response, never the process.
      const fail = () => res.destroy();
      if (subscription) return void serveSubscription({ req, res, call: subscription, createContext: () => createContext(req), onError }).catch(fail);
      const body = readDeclaredBody(req);
      if (!body) return void trpc(req, res);
      const mutation = direct ? singleMutationPath(req, BASE_PATH) : null;
      body.then(
        (text) => {
          if (mutation) return void serveMutation({ req, res, path: mutation, body: text, createContext: () => createContext(req), onError }).catch(fail);
          // tRPC takes a body that a middleware already read from `req.body`.
          (req as IncomingMessage & { body?: string }).body = text;
          void trpc(req, res);
        },
        fail,
      );
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
