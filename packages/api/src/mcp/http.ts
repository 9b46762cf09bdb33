import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiCore } from "../server.js";
import { callerBackend } from "./backend.js";

/**
 * The MCP SDK and the tools are loaded by the first MCP request, not at start: a board that
 * no MCP client talks to does not carry them (about 10 MB of the server's memory).
 */
const loadMcp = async () => {
  const [{ StreamableHTTPServerTransport }, { createMcpServer }] = await Promise.all([
    import("@modelcontextprotocol/sdk/server/streamableHttp.js"),
    import("./tools.js"),
  ]);
  return { StreamableHTTPServerTransport, createMcpServer };
};

export const MCP_PATH = "/api/mcp";

export interface McpHttpHandler {
  handles(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null });
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(body);
}

function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new RangeError("too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (err) {
        reject(err);
      }
    });
    req.on("error", reject);
  });
}

/**
 * The MCP server over streamable HTTP at /api/mcp, stateless: every POST carries its bearer
 * token, gets a server whose tools call procedures through a caller bound to that token's
 * principal, and is answered as JSON. No token, no tools: 401 before anything runs.
 */
export function createMcpHttpHandler(core: ApiCore, opts: { maxBodyBytes: number }): McpHttpHandler {
  async function serve(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== "POST") return sendError(res, 405, "only POST: this MCP endpoint is stateless", { allow: "POST" });
    const ctx = await core.createContext({ authorization: req.headers.authorization ?? null });
    if (!ctx.principal) return sendError(res, 401, "a valid bearer token is required", { "www-authenticate": "Bearer" });
    let body: unknown;
    try {
      body = await readJson(req, opts.maxBodyBytes);
    } catch (err) {
      return err instanceof RangeError ? sendError(res, 413, "the body is too large") : sendError(res, 400, "the body is not JSON");
    }
    const { StreamableHTTPServerTransport, createMcpServer } = await loadMcp();
    const server = createMcpServer(callerBackend(core.callerFor(ctx.principal)));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }
  return {
    handles: (req) => {
      const url = req.url ?? "";
      return url === MCP_PATH || url.startsWith(`${MCP_PATH}?`);
    },
    handle: (req, res) => {
      serve(req, res).catch(() => sendError(res, 500, "internal error"));
    },
  };
}
