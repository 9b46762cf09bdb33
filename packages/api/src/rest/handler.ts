import type { IncomingMessage, ServerResponse } from "node:http";
import { callTRPCProcedure, type TRPCError } from "@trpc/server";
import { appRouter } from "../root.js";
import type { ApiCore } from "../core.js";
import type { Context } from "../trpc.js";
import { openApiDocument, REST_BASE } from "./document.js";
import { badJson, httpError, restError, type RestErrorBody } from "./errors.js";
import { serveEventStream } from "./event-stream.js";
import { toJson } from "./json.js";
import { compileRoutes, queryInput, type CompiledRoute } from "./match.js";

export interface RestHandlerOptions {
  maxBodyBytes: number;
  onError?: (error: TRPCError, path: string) => void;
}

export interface RestHandler {
  handles(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const json = toJson(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(json),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(json);
}

const sendError = (res: ServerResponse, e: { status: number; body: RestErrorBody }, headers?: Record<string, string>) =>
  sendJson(res, e.status, e.body, headers);

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > max) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new BodyTooLarge());
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function bodyInput(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw badJson((cause as Error).message);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badJson("expected a JSON object");
  return value as Record<string, unknown>;
}

/**
 * REST at /api/v1: each request is matched to its route, its path parameters, query string
 * and JSON body become the procedure's input, and the procedure is called with tRPC's public
 * `callTRPCProcedure` — the same middlewares (error mapping, authentication), the same
 * authorization and services as a tRPC call. `GET /api/v1/openapi.json` is the document.
 */
export function createRestHandler(core: ApiCore, opts: RestHandlerOptions): RestHandler {
  // Built on the first REST request, not at the server's start (the document is ~0.3 s of CPU).
  let table: { routes: CompiledRoute[]; document: string } | null = null;
  const compiled = () => (table ??= { routes: compileRoutes(), document: toJson(openApiDocument()) });

  const match = (method: string, pathname: string): { route: CompiledRoute; params: Record<string, string> } | "method" | null => {
    let pathMatched = false;
    for (const route of compiled().routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.route.method !== method) continue;
      const params: Record<string, string> = {};
      for (const [i, name] of route.params.entries()) params[name] = decodeURIComponent(m[i + 1] ?? "");
      return { route, params };
    }
    return pathMatched ? "method" : null;
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    if (url.pathname === `${REST_BASE}/openapi.json` && (method === "GET" || method === "HEAD")) {
      const { document } = compiled();
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(document),
        "cache-control": "no-cache",
        "access-control-allow-origin": "*",
      });
      res.end(method === "HEAD" ? undefined : document);
      return;
    }
    let found: ReturnType<typeof match>;
    try {
      found = match(method, url.pathname);
    } catch {
      return sendError(res, httpError(400, "BAD_REQUEST", "the path is not valid URL encoding"));
    }
    if (found === null) return sendError(res, httpError(404, "NOT_FOUND", `no such path: ${method} ${url.pathname}`));
    if (found === "method") {
      const allowed = compiled()
        .routes.filter((r) => r.pattern.test(url.pathname))
        .map((r) => r.route.method);
      return sendError(res, httpError(405, "METHOD_NOT_SUPPORTED", `${method} is not supported here`), { allow: allowed.join(", ") });
    }
    const { route, params } = found;
    const procedure = route.route.procedure;

    const abort = new AbortController();
    res.once("close", () => {
      if (!res.writableEnded) abort.abort();
    });
    let ctx: Context | undefined;
    let input: unknown;
    try {
      const body =
        route.route.method === "POST" || route.route.method === "PATCH"
          ? bodyInput(await readBody(req, opts.maxBodyBytes))
          : queryInput(url.searchParams, route);
      input = route.hasInput ? { ...body, ...params } : undefined;
      ctx = await core.createContext({ authorization: req.headers.authorization ?? null });
      if (route.route.eventStream && (req.headers.accept ?? "").includes("text/event-stream")) {
        return await serveEventStream({ req, res, ctx, input: input as Record<string, unknown>, signal: abort.signal, onError: opts.onError });
      }
      const data = await callTRPCProcedure({
        router: appRouter,
        path: procedure,
        type: route.type,
        ctx,
        signal: abort.signal,
        batchIndex: 0,
        getRawInput: async () => input,
      });
      if (data === null && route.route.noContentWhenNull) {
        if (!res.destroyed) res.writeHead(204, { "cache-control": "no-store" }).end();
        return;
      }
      sendJson(res, route.route.status ?? 200, data);
    } catch (cause) {
      if (cause instanceof BodyTooLarge)
        return sendError(res, httpError(413, "PAYLOAD_TOO_LARGE", `the body is larger than ${opts.maxBodyBytes} bytes`), { connection: "close" });
      const e = restError(cause, { ctx, input, path: procedure, type: route.type });
      opts.onError?.(e.error, procedure);
      sendError(res, e);
    }
  }

  return {
    handles(req) {
      const url = req.url ?? "";
      return url === REST_BASE || url.startsWith(`${REST_BASE}/`) || url.startsWith(`${REST_BASE}?`);
    },
    handle(req, res) {
      serve(req, res).catch(() => res.destroy());
    },
  };
}
