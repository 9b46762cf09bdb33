/**
 * Approvals for Claude Code: its permission prompt, answered by the runner.
 *
 * With `--permission-mode default --permission-prompt-tool mcp__agentboard__approve`, the
 * CLI calls that MCP tool before each tool use that needs permission and waits for
 * `{ behavior: "allow" | "deny" }`. This module is that MCP server: a small Streamable
 * HTTP endpoint on 127.0.0.1 (a secret path per run), living in the runner's process, so a
 * request reaches the run's approval gate without another process. The wait is streamed
 * (server-sent events with pings), so a person may take minutes without an HTTP timeout.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { z } from "zod";
import { refusalText } from "./approval.js";
import { changePreview } from "./tools/change-preview.js";
import { needsApproval, type ApprovalSubject, type EngineContext } from "./types.js";

export const PERMISSION_TOOL = "mcp__agentboard__approve";

const PING_MS = 15_000;
const MAX_BODY = 4 * 1024 * 1024;

const rpc = z.looseObject({ jsonrpc: z.literal("2.0"), id: z.union([z.string(), z.number()]).optional(), method: z.string(), params: z.unknown().optional() });
const permissionCall = z.object({
  name: z.literal("approve"),
  arguments: z.looseObject({ tool_name: z.string(), input: z.record(z.string(), z.unknown()), tool_use_id: z.string().optional() }),
});

export interface PermissionBridge {
  /** Arguments that make the CLI ask through this bridge. */
  args: string[];
  /** The same endpoint on a unix socket, for a CLI in the run's sandbox (bridged there to 127.0.0.1:port). */
  service: { name: string; socket: string; port: number };
  close(): Promise<void>;
}

/** What a Claude Code tool use would do, for the person asked; null when it is neither a command nor a write. */
export async function subjectOf(worktree: string, tool: string, input: Record<string, unknown>): Promise<ApprovalSubject | null> {
  const str = (k: string) => (typeof input[k] === "string" ? (input[k] as string) : null);
  if (tool === "Bash") return { kind: "command", command: str("command") ?? JSON.stringify(input) };
  const file = str("file_path") ?? str("notebook_path");
  if (!["Write", "Edit", "MultiEdit", "NotebookEdit"].includes(tool) || !file) return null;
  const abs = path.resolve(worktree, file);
  const rel = path.relative(worktree, abs) || abs;
  const before = await readFile(abs, "utf8").catch(() => null);
  if (tool === "Write") return changePreview(rel, before, str("content") ?? "", before === null ? "create" : "overwrite");
  if (tool === "Edit" && before !== null && str("old_string") !== null) {
    const old = str("old_string")!;
    const next = str("new_string") ?? "";
    return changePreview(rel, before, input.replace_all === true ? before.split(old).join(next) : before.replace(old, () => next), "edit");
  }
  // Multi-edits and notebooks: the exact input, as the CLI will apply it.
  return changePreview(rel, null, JSON.stringify(input, null, 2), "edit");
}

async function answer(
  ctx: EngineContext,
  call: z.infer<typeof permissionCall>["arguments"],
): Promise<{ behavior: "allow"; updatedInput: Record<string, unknown> } | { behavior: "deny"; message: string }> {
  const subject = await subjectOf(ctx.worktree, call.tool_name, call.input);
  if (!subject || !needsApproval(ctx.approval, subject.kind)) return { behavior: "allow", updatedInput: call.input };
  if (!ctx.requestApproval) return { behavior: "deny", message: "this runner cannot ask for approval" };
  const a = await ctx.requestApproval({ tool: call.tool_name, subject });
  if (a.decision === "granted") return { behavior: "allow", updatedInput: call.input };
  return { behavior: "deny", message: refusalText(a, subject.kind === "command" ? "command" : "file change") };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error("body too large"));
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const toolDef = {
  name: "approve",
  description: "Asks the people watching this run whether a tool use may go ahead.",
  inputSchema: {
    type: "object",
    properties: { tool_name: { type: "string" }, input: { type: "object" }, tool_use_id: { type: "string" } },
    required: ["tool_name", "input"],
  },
};

/** Starts the bridge for one Claude Code run; `close` ends it (and any wait in it). */
export async function startPermissionBridge(ctx: EngineContext): Promise<PermissionBridge> {
  const secret = randomBytes(18).toString("base64url");
  const endpoint = `/mcp/${secret}`;
  const open = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url !== endpoint) return void res.writeHead(404).end();
    // No server-initiated stream and no session teardown to do.
    if (req.method !== "POST") return void res.writeHead(405, { allow: "POST" }).end();
    const parsed = rpc.safeParse(JSON.parse(await readBody(req)));
    if (!parsed.success) return void res.writeHead(400).end();
    const msg = parsed.data;
    if (msg.id === undefined) return void res.writeHead(202).end(); // a notification
    const reply = (result: unknown) => ({ jsonrpc: "2.0", id: msg.id, result });
    const json = (body: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    switch (msg.method) {
      case "initialize": {
        const version = (msg.params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
        return void json(
          reply({
            protocolVersion: typeof version === "string" ? version : "2025-06-18",
            capabilities: { tools: {} },
            serverInfo: { name: "agentboard", version: "1" },
          }),
        );
      }
      case "ping":
        return void json(reply({}));
      case "tools/list":
        return void json(reply({ tools: [toolDef] }));
      case "tools/call": {
        const call = permissionCall.safeParse(msg.params);
        if (!call.success) return void json({ jsonrpc: "2.0", id: msg.id, error: { code: -32602, message: "unknown tool or invalid arguments" } });
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        open.add(res);
        const ping = setInterval(() => res.write(": ping\n\n"), PING_MS);
        try {
          const decision = await answer(ctx, call.data.arguments);
          res.end(`event: message\ndata: ${JSON.stringify(reply({ content: [{ type: "text", text: JSON.stringify(decision) }] }))}\n\n`);
        } catch (err) {
          // A stop (cancel, timeout, lost lease) ends the CLI too; a failure to ask denies.
          const message = ctx.signal.aborted ? "the run was stopped" : `asking for approval failed: ${err instanceof Error ? err.message : String(err)}`;
          res.end(`event: message\ndata: ${JSON.stringify(reply({ content: [{ type: "text", text: JSON.stringify({ behavior: "deny", message }) }] }))}\n\n`);
        } finally {
          clearInterval(ping);
          open.delete(res);
        }
        return;
      }
      default:
        return void json({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: `method not found: ${msg.method}` } });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(400);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  // A sandboxed CLI has only its own loopback: it reaches the same handler through this socket.
  const socketDir = await mkdtemp(path.join(tmpdir(), "agentboard-approvals-"));
  const socket = path.join(socketDir, "approvals.sock");
  const unix = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(400);
      res.end();
    });
  });
  await new Promise<void>((resolve) => unix.listen(socket, resolve));
  // The call lasts as long as a person takes (up to the request's timeout, at most a day):
  // its own limit is set above that, whatever MCP_TOOL_TIMEOUT says.
  const config = { mcpServers: { agentboard: { type: "http", url: `http://127.0.0.1:${port}${endpoint}`, timeout: 25 * 3_600_000 } } };
  return {
    args: ["--permission-mode", "default", "--permission-prompt-tool", PERMISSION_TOOL, "--mcp-config", JSON.stringify(config)],
    service: { name: "approvals.sock", socket, port },
    close: async () => {
      for (const res of open) res.destroy();
      await Promise.all(
        [server, unix].map(
          (srv) =>
            new Promise<void>((resolve) => {
              srv.close(() => resolve());
              srv.closeAllConnections();
            }),
        ),
      );
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}
