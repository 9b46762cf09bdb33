import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { toJson } from "../rest/json.js";
import { VERSION } from "../services/health.js";
import type { McpBackend } from "./backend.js";

/**
 * The MCP tools: what an assistant needs to work the board. Each is a thin call of one or
 * two procedures; their input schemas here only describe the arguments to the model — the
 * procedure validates them again, and authorizes them for the server's token.
 */

const id = (what: string) => z.string().min(1).describe(`The ${what} id`);
const column = z.enum(["backlog", "todo", "in_progress", "in_review", "done"]);

function ok(value: unknown): CallToolResult {
  return { content: [{ type: "text", text: toJson(value, 2) }] };
}

interface Described {
  code?: unknown;
  message?: unknown;
  data?: { code?: unknown; reason?: unknown; issues?: { path: string; message: string }[] | null } | null;
  cause?: { reason?: unknown; issues?: { path: PropertyKey[]; message: string }[] } | null;
}

/** A failed call as the model should read it: the machine-readable reason and the message. */
export function toolError(err: unknown): CallToolResult {
  const e = (typeof err === "object" && err !== null ? err : {}) as Described;
  const reason = e.data?.reason ?? e.cause?.reason ?? e.data?.code ?? e.code ?? "INTERNAL_SERVER_ERROR";
  const issue =
    e.data?.issues?.[0] ?? (e.cause?.issues?.[0] ? { path: e.cause.issues[0].path.map(String).join("."), message: e.cause.issues[0].message } : undefined);
  const message = issue ? `${issue.path ? `${issue.path}: ` : ""}${issue.message}` : typeof e.message === "string" ? e.message : "internal error";
  return { isError: true, content: [{ type: "text", text: `${String(reason)}: ${message}` }] };
}

const run = async (fn: () => Promise<unknown>): Promise<CallToolResult> => {
  try {
    return ok(await fn());
  } catch (err) {
    return toolError(err);
  }
};

export function createMcpServer(api: McpBackend): McpServer {
  const server = new McpServer({ name: "agentboard", version: VERSION });

  server.registerTool(
    "list_boards",
    {
      description: "The boards this token can see, with their workspace; pass workspaceId to see one workspace's.",
      inputSchema: { workspaceId: id("workspace").optional() },
    },
    ({ workspaceId }) =>
      run(async () => {
        const workspaces = workspaceId ? [await api.query("workspace", "byId", { workspaceId })] : await api.query("workspace", "list", undefined);
        const boards = await Promise.all(
          workspaces.map(async (w) => ({ workspace: { id: w.id, name: w.name }, boards: await api.query("board", "list", { workspaceId: w.id }) })),
        );
        return boards;
      }),
  );

  server.registerTool(
    "list_projects",
    { description: "A workspace's projects (repositories): a card needs one.", inputSchema: { workspaceId: id("workspace") } },
    ({ workspaceId }) => run(() => api.query("project", "list", { workspaceId })),
  );

  server.registerTool(
    "list_cards",
    { description: "The cards of a board: title, column, labels and their latest run.", inputSchema: { boardId: id("board") } },
    ({ boardId }) => run(() => api.query("card", "list", { boardId })),
  );

  server.registerTool(
    "create_card",
    {
      description: "Create a card (a piece of work) on a board, for one of the workspace's projects.",
      inputSchema: {
        boardId: id("board"),
        projectId: id("project"),
        title: z.string().min(1),
        description: z.string().optional(),
        column: column.optional(),
        labels: z.array(z.string()).optional(),
      },
    },
    (input) => run(() => api.mutate("card", "create", input)),
  );

  server.registerTool(
    "update_card",
    {
      description: "Edit a card's title, description or labels, and/or move it to another column.",
      inputSchema: {
        cardId: id("card"),
        title: z.string().min(1).optional(),
        description: z.string().optional(),
        labels: z.array(z.string()).optional(),
        column: column.optional(),
      },
    },
    ({ cardId, column: to, ...edit }) =>
      run(async () => {
        let card = Object.keys(edit).length ? await api.mutate("card", "update", { cardId, ...edit }) : null;
        if (to) card = await api.mutate("card", "move", { cardId, column: to });
        return card ?? (await api.query("card", "byId", { cardId }));
      }),
  );

  server.registerTool(
    "start_run",
    {
      description:
        "Start a run for a card: an agent (engine anthropic, claude-code, acp) or a shell command " +
        "(engine command) works on the card in its own worktree and branch.",
      inputSchema: {
        cardId: id("card"),
        engine: z.enum(["anthropic", "claude-code", "command", "acp"]).optional(),
        prompt: z.string().optional().describe("Instead of the workflow's prompt template"),
        command: z.string().optional().describe("For engine command: the shell command"),
        workflowId: id("workflow").optional(),
        model: z.string().optional(),
        agentProfile: z.string().optional().describe("For engine acp: the agent profile's name"),
      },
    },
    (input) => run(() => api.mutate("run", "create", input)),
  );

  server.registerTool(
    "get_run",
    {
      description: "A run's status, summary, metrics (tokens, cost, tool calls, duration) and Definition-of-Done items with their evidence.",
      inputSchema: { runId: id("run") },
    },
    ({ runId }) =>
      run(async () => {
        const { diff: _diff, logs: _logs, testOutput: _tests, prompt: _prompt, ...rest } = await api.query("run", "byId", { runId });
        return rest;
      }),
  );

  server.registerTool(
    "get_run_diff",
    { description: "The run's diff against its base branch (unified diff).", inputSchema: { runId: id("run") } },
    async ({ runId }) => {
      try {
        const r = await api.query("run", "byId", { runId });
        return { content: [{ type: "text", text: r.diff ?? "(no diff yet)" }] };
      } catch (err) {
        return toolError(err);
      }
    },
  );

  server.registerTool(
    "get_run_log",
    {
      description: "The run's event log (messages, tool calls, command output, status changes), one line per event; page with afterSeq.",
      inputSchema: { runId: id("run"), afterSeq: z.number().int().nonnegative().optional(), limit: z.number().int().min(1).max(1000).optional() },
    },
    async (input) => {
      try {
        const events = await api.query("run", "events", input);
        const lines = events.map((e) => `${e.seq} ${e.type} ${toJson(e.payload)}`);
        return { content: [{ type: "text", text: lines.join("\n") || "(no events)" }] };
      } catch (err) {
        return toolError(err);
      }
    },
  );

  server.registerTool(
    "add_evidence",
    {
      description: "Add evidence (text or a URL) to a run's Definition-of-Done item, by key; an unknown key creates the item (give itemTitle).",
      inputSchema: {
        runId: id("run"),
        itemKey: z.string().min(1),
        itemTitle: z.string().optional(),
        text: z.string().optional(),
        url: z.string().optional(),
        note: z.string().optional(),
      },
    },
    ({ runId, itemKey, itemTitle, text, url, note }) =>
      run(() =>
        url !== undefined
          ? api.mutate("dod", "addEvidence", { runId, itemKey, itemTitle, kind: "url", payload: { url, ...(note ? { note } : {}) } })
          : api.mutate("dod", "addEvidence", { runId, itemKey, itemTitle, kind: "text", payload: { text: text ?? "" } }),
      ),
  );

  return server;
}
