import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { getTRPCErrorShape, transformTRPCResponse, TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { createStallWatch } from "./backpressure.js";
import { setSecurityHeaders } from "./headers.js";
import { inputDepthError } from "./input.js";
import { serveMutation, singleMutationPath } from "./direct-mutation.js";
import { serveSubscription, subscriptionCall } from "./direct-subscription.js";
import { appRouter } from "../root.js";
import { rootConfig } from "../trpc.js";
import { createRestHandler } from "../rest/handler.js";
import { createMcpHttpHandler } from "../mcp/http.js";
import { checkHealth } from "../services/health.js";
import type { ApiCore } from "../core.js";
import { createAccountRoutes } from "../auth/account-routes.js";
import { cookieMayAct } from "../auth/same-origin.js";

export interface ApiHttpOptions {
  /** Reads a token from the request when there is no Authorization header (browser sessions). */
  tokenFromRequest?: (req: IncomingMessage) => string | undefined;
  onInternalError?: (path: string | undefined, err: unknown) => void;
  /**
   * Serve single mutations and subscriptions directly, without tRPC's fetch-API and
   * web-stream round trip (default true; see direct-mutation.ts, direct-subscription.ts).
   */
  direct?: boolean;
  /** How long a response may wait on a client that takes none of its bytes before it is dropped (backpressure.ts). */
  stallMs?: number;
  /** How often an idle subscription is pinged on the direct path (default: the router's 10 s). */
  pingMs?: number;
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

const config = rootConfig;

class BodyTooLarge extends Error {}

/**
 * Reads a JSON body (declared length or chunked) as a string, up to MAX_BODY_BYTES, so that
 * its nesting can be checked before anything parses it and tRPC gets it as a string instead
 * of wrapping the request in a web stream (a measurable share of a small call's cost).
 */
function readJsonBody(req: IncomingMessage): Promise<string> | null {
  if (req.method !== "POST") return null;
  const type = req.headers["content-type"]?.split(";", 1)[0]?.trim().toLowerCase();
  if (type !== "application/json") return null;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.off("data", onData);
      reject(new BodyTooLarge());
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Answers a request that is refused before any procedure runs, in tRPC's error shape. */
function refuse(res: ServerResponse, error: TRPCError, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const shape = getTRPCErrorShape({ config, ctx: undefined, error, input: undefined, path: undefined, type: "unknown" });
  const json = JSON.stringify(transformTRPCResponse(config, { error: shape }));
  res.writeHead(getHTTPStatusCodeFromError(error), { "content-type": "application/json", "content-length": Buffer.byteLength(json), ...headers });
  res.end(json);
}

const tooLarge = () => new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: `request bodies are limited to ${MAX_BODY_BYTES} bytes` });

/** The `input` query parameter of a GET, where queries and subscriptions carry their input. */
function queryInput(url: string): string | null {
  const q = url.indexOf("?");
  return q === -1 ? null : new URLSearchParams(url.slice(q + 1)).get("input");
}

/**
 * The API over HTTP: tRPC at /api/trpc/ (batching, streaming, SSE subscriptions), the REST
 * facade at /api/v1/ (rest/handler.ts), the MCP server at /api/mcp (mcp/http.ts) and
 * GET /api/health. Mounted by the web server; tests and benchmarks mount it alone.
 * Before tRPC sees a request: methods other than GET and POST answer 405 (tRPC's handler
 * builds a fetch Request, which throws on TRACE), a declared body over the limit answers
 * 413 at once, and input text nested too deep answers 400 unparsed.
 */
export function createApiHttpHandler(core: ApiCore, opts: ApiHttpOptions = {}): ApiHttpHandler {
  const createContext = (req: IncomingMessage) => {
    const header = req.headers.authorization;
    const fallback = header ? undefined : opts.tokenFromRequest?.(req);
    // A session cookie acts only where a cross-site page cannot make the browser send it (CSRF).
    const cookie = !header && !fallback && cookieMayAct(req) ? (req.headers.cookie ?? null) : null;
    return core.createContext({ authorization: header ?? (fallback ? `Bearer ${fallback}` : null), cookie });
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
  const stalls = createStallWatch(opts.stallMs);
  const account = createAccountRoutes(core.deps, core.accounts);
  return {
    handles(req) {
      const url = req.url ?? "";
      return (
        url.startsWith("/api/trpc/") || url === "/api/health" || url.startsWith("/api/health?") || rest.handles(req) || mcp.handles(req) || account.handles(req)
      );
    },
    handle(req, res) {
      setSecurityHeaders(res);
      stalls.watch(res);
      // REST and MCP check methods, lengths and bodies themselves (REST has DELETE).
      if (rest.handles(req)) return rest.handle(req, res);
      if (mcp.handles(req)) return mcp.handle(req, res);
      if (account.handles(req)) return account.handle(req, res);
      const url = req.url ?? "";
      const method = req.method ?? "GET";
      if (url.startsWith("/api/health")) {
        if (method !== "GET" && method !== "HEAD")
          return refuse(res, new TRPCError({ code: "METHOD_NOT_SUPPORTED", message: `${method} is not supported here: use GET` }), { allow: "GET, HEAD" });
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
      if (method !== "GET" && method !== "POST") {
        return refuse(
          res,
          new TRPCError({
            code: "METHOD_NOT_SUPPORTED",
            message: `${method} is not supported: the API takes GET (queries, subscriptions) and POST (mutations)`,
          }),
          { allow: "GET, POST" },
        );
      }
      // Refused before a byte of the body is read; the connection closes, since the rest of
      // the body would otherwise have to be read to reuse it.
      if (Number(req.headers["content-length"]) > MAX_BODY_BYTES) return refuse(res, tooLarge(), { connection: "close" });
      const direct = opts.direct !== false;
      // Whatever escapes a direct path (nothing should) ends the response, never the process.
      const fail = () => res.destroy();
      if (method === "GET") {
        const deep = inputDepthError(queryInput(url));
        if (deep) return refuse(res, deep);
        const subscription = direct ? subscriptionCall(req, BASE_PATH) : null;
        if (subscription)
          return void serveSubscription({ req, res, call: subscription, createContext: () => createContext(req), onError, pingMs: opts.pingMs }).catch(fail);
        return void trpc(req, res);
      }
      const body = readJsonBody(req);
      if (!body) return void trpc(req, res);
      const mutation = direct ? singleMutationPath(req, BASE_PATH) : null;
      body.then(
        (text) => {
          const deep = inputDepthError(text);
          if (deep) return refuse(res, deep);
          if (mutation) return void serveMutation({ req, res, path: mutation, body: text, createContext: () => createContext(req), onError }).catch(fail);
          // tRPC takes a body that a middleware already read from `req.body`.
          (req as IncomingMessage & { body?: string }).body = text;
          void trpc(req, res);
        },
        (err: unknown) => (err instanceof BodyTooLarge ? refuse(res, tooLarge(), { connection: "close" }) : fail()),
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
export async function listenApi(
  core: ApiCore,
  opts: ApiHttpOptions & { port?: number; host?: string } = {},
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
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
