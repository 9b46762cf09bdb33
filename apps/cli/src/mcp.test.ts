import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, waitForFinish, type Harness } from "@agentboard/runner/testing";

/**
 * The MCP server through the SDK's own client, over both transports: stdio (`agentboard mcp`,
 * the CLI's bin, talking to the server over HTTP) and streamable HTTP (/api/mcp on the
 * server). A real runner executes the run the tools start.
 */
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../bin/agentboard.mjs");

type Connect = (h: Harness, token: string) => Promise<Client>;

const transports: [string, Connect][] = [
  [
    "stdio",
    async (h, token) => {
      const client = new Client({ name: "test", version: "1" });
      await client.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [bin, "mcp"],
          // NODE_OPTIONS carries the source condition (vitest.config.ts): without it the bin
          // loads dist/, which a clean clone has not built.
          env: {
            PATH: process.env.PATH ?? "",
            HOME: process.env.HOME ?? "",
            NODE_OPTIONS: process.env.NODE_OPTIONS ?? "",
            AGENTBOARD_SERVER: h.url,
            AGENTBOARD_TOKEN: token,
          },
          stderr: "pipe",
        }),
      );
      return client;
    },
  ],
  [
    "streamable HTTP",
    async (h, token) => {
      const client = new Client({ name: "test", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/api/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      return client;
    },
  ],
];

const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;
const json = <T>(r: unknown): T => {
  expect((r as CallToolResult).isError, text(r)).toBeFalsy();
  return JSON.parse(text(r)) as T;
};

describe.each(transports)("the MCP server over %s", (_name, connect) => {
  let h: Harness;
  let member: Client;
  let viewer: Client;
  let projectId: string;

  beforeAll(async () => {
    h = await startHarness("sqlite");
    projectId = (await h.project()).id;
    await h.startRunner();
    member = await connect(h, (await h.api.withToken("member", h.workspace.id, "assistant")).token);
    viewer = await connect(h, (await h.api.withToken("viewer", h.workspace.id, "watcher")).token);
  });
  afterAll(async () => {
    await member?.close();
    await viewer?.close();
    await h?.close();
  });

  it("lists its tools", async () => {
    const { tools } = await member.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "add_evidence",
      "create_card",
      "get_run",
      "get_run_diff",
      "get_run_log",
      "list_boards",
      "list_cards",
      "list_projects",
      "start_run",
      "update_card",
    ]);
    const create = tools.find((t) => t.name === "create_card")!;
    expect(create.inputSchema.required).toEqual(expect.arrayContaining(["boardId", "projectId", "title"]));
  });

  it("creates a card, starts a command run, reads it to success, its log and diff, and adds evidence", async () => {
    const boards = json<{ workspace: { id: string }; boards: { id: string }[] }[]>(await member.callTool({ name: "list_boards", arguments: {} }));
    expect(boards).toEqual([{ workspace: expect.objectContaining({ id: h.workspace.id }), boards: [expect.objectContaining({ id: h.board.id })] }]);
    const card = json<{ id: string; title: string }>(
      await member.callTool({ name: "create_card", arguments: { boardId: h.board.id, projectId, title: "Write hello.txt" } }),
    );
    expect(card.title).toBe("Write hello.txt");
    const moved = json<{ column: string; labels: string[] }>(
      await member.callTool({ name: "update_card", arguments: { cardId: card.id, labels: ["mcp"], column: "todo" } }),
    );
    expect(moved).toMatchObject({ column: "todo", labels: ["mcp"] });
    const cards = json<{ id: string }[]>(await member.callTool({ name: "list_cards", arguments: { boardId: h.board.id } }));
    expect(cards.map((c) => c.id)).toContain(card.id);

    const started = json<{ id: string; status: string }>(
      await member.callTool({ name: "start_run", arguments: { cardId: card.id, engine: "command", command: "echo hello > hello.txt && echo wrote it" } }),
    );
    expect(started.status).toBe("queued");
    await waitForFinish(h.admin, started.id);
    const run = json<{ status: string; diff?: string; dodItems: unknown[] }>(await member.callTool({ name: "get_run", arguments: { runId: started.id } }));
    expect(run.status).toBe("succeeded");
    expect(run).not.toHaveProperty("diff");
    const log = text(await member.callTool({ name: "get_run_log", arguments: { runId: started.id } }));
    expect(log).toMatch(/^1 run\.queued /m);
    expect(log).toContain("wrote it");
    expect(log).toMatch(/ run\.succeeded /);
    expect(text(await member.callTool({ name: "get_run_diff", arguments: { runId: started.id } }))).toContain("+hello");
    const evidence = json<{ item: { key: string } }>(
      await member.callTool({
        name: "add_evidence",
        arguments: { runId: started.id, itemKey: "hello", itemTitle: "hello.txt written", text: "the diff adds it" },
      }),
    );
    expect(evidence.item.key).toBe("hello");
  });

  it("a viewer's tools can read but not create: FORBIDDEN, and nothing is written", async () => {
    const before = await h.admin.card.list.query({ boardId: h.board.id });
    const denied = (await viewer.callTool({ name: "create_card", arguments: { boardId: h.board.id, projectId, title: "Nope" } })) as CallToolResult;
    expect(denied.isError).toBe(true);
    expect(text(denied)).toMatch(/^FORBIDDEN: /);
    expect(await h.admin.card.list.query({ boardId: h.board.id })).toHaveLength(before.length);
    const read = await viewer.callTool({ name: "list_cards", arguments: { boardId: h.board.id } });
    expect(json<unknown[]>(read)).toHaveLength(before.length);
    const missing = (await viewer.callTool({ name: "get_run", arguments: { runId: "nope" } })) as CallToolResult;
    expect(text(missing)).toMatch(/^NOT_FOUND: /);
  });
});

describe("the MCP HTTP endpoint", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite");
  });
  afterAll(async () => h?.close());

  it("answers 401 without a valid token, before any tool exists", async () => {
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    for (const authorization of [undefined, "Bearer ab_nope"]) {
      const res = await fetch(`${h.url}/api/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(authorization ? { authorization } : {}) },
        body,
      });
      expect(res.status).toBe(401);
    }
  });
});
