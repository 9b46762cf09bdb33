import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMessagesServer, type MessagesServer, type RecordedRequest, type Turn } from "@agentboard/testkit";
import { AcpEngine } from "./acp/engine.js";
import { makeTempDir, recordingContext } from "./testing.js";
import type { AgentSpec, EngineEvent } from "./types.js";

/**
 * The acp engine driving a real ACP agent from the npm registry: Zed's Claude Code adapter
 * (@zed-industries/claude-code-acp, pinned), which runs Claude Code through its SDK. Its model
 * is our local Messages API stand-in on 127.0.0.1 (ANTHROPIC_BASE_URL from the engine's model
 * settings), scripted turn by turn; everything else — the adapter, Claude Code, ACP — is the
 * real thing. Claude Code writes and runs commands through the client (fs/write_text_file,
 * terminal/create), so the engine's confinement and policy apply.
 */
const adapter = createRequire(import.meta.url).resolve("@zed-industries/claude-code-acp/dist/index.js");

const toolResults = (req: RecordedRequest) => JSON.stringify(req.body.messages).split('"tool_result"').length - 1;

/** The model's side: write hello.txt, run `cat hello.txt`, then finish. */
function script(worktree: string, opts: { slow?: boolean } = {}) {
  return (req: RecordedRequest): Turn => {
    const tools = ((req.body as { tools?: { name: string }[] }).tools ?? []).map((t) => t.name);
    // Side requests (titles, probes) have no tools or do not stream: not the agent's loop.
    if (!req.stream || !tools.includes("mcp__acp__Write")) return { text: "Hello file" };
    if (opts.slow) return { text: "never mind", delayMs: 120_000 };
    switch (toolResults(req)) {
      case 0:
        return {
          content: [
            { type: "text", text: "Writing the file." },
            { type: "tool_use", name: "mcp__acp__Write", input: { file_path: path.join(worktree, "hello.txt"), content: "hello\n" } },
          ],
        };
      case 1:
        return {
          content: [
            {
              type: "tool_use",
              name: "mcp__acp__Bash",
              input: { command: "cat hello.txt; echo from-terminal", description: "Show the file", timeout: 30_000 },
            },
          ],
        };
      default:
        return { text: "hello.txt is written." };
    }
  };
}

const ofType = <T extends EngineEvent["type"]>(events: EngineEvent[], type: T) => events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);

describe("acp engine with Claude Code's ACP adapter", () => {
  let server: MessagesServer;
  let root: string;
  let worktree: string;
  let cleanup: () => Promise<void>;
  let current: (req: RecordedRequest) => Turn;

  beforeAll(async () => {
    server = await startMessagesServer({ script: (req) => current(req) });
  });
  afterAll(async () => server?.close());
  beforeEach(async () => {
    ({ dir: root, cleanup } = await makeTempDir("acp-claude"));
    worktree = path.join(root, "wt");
    await mkdir(worktree);
    await mkdir(path.join(root, "home"));
  });
  afterEach(async () => cleanup());

  function context(prompt: string, permissions: AgentSpec["permissions"]) {
    const agent: AgentSpec = {
      name: "claude-code-acp",
      command: process.execPath,
      args: [adapter],
      env: { DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },
      permissions,
    };
    return recordingContext({
      worktree,
      prompt,
      agent,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: path.join(root, "home"), LANG: "C.UTF-8" },
      anthropic: { apiKey: "sk-ant-test", baseURL: server.url },
    });
  }

  it("writes a file and runs a command through the client, with the permission asked and allowed", async () => {
    current = script(worktree);
    const rec = context("Write hello.txt", "allow");
    const result = await new AcpEngine().run(rec.ctx);
    expect(result.summary).toBe("hello.txt is written.");
    expect(await readFile(path.join(worktree, "hello.txt"), "utf8")).toBe("hello\n");
    const calls = ofType(rec.events, "tool.call");
    expect(calls.map((c) => c.payload.input)).toEqual([
      expect.objectContaining({ file_path: path.join(worktree, "hello.txt"), content: "hello\n" }),
      expect.objectContaining({ command: "cat hello.txt; echo from-terminal" }),
    ]);
    expect(result.toolCalls).toBe(2);
    expect(ofType(rec.events, "agent.permission").length).toBeGreaterThanOrEqual(1);
    expect(ofType(rec.events, "agent.permission").every((p) => p.payload.decision === "allowed")).toBe(true);
    expect(rec.output()).toContain("hello\nfrom-terminal");
    expect(ofType(rec.events, "tool.result").map((r) => r.payload.isError)).toEqual([false, false]);
    expect(ofType(rec.events, "agent.message").map((m) => m.payload.text)).toContain("hello.txt is written.");
    // The runner's model settings reached Claude Code (our stand-in answered it).
    expect(server.requests.some((r) => r.headers["x-api-key"] === "sk-ant-test")).toBe(true);
  });

  it("a denied permission keeps the file from being written", async () => {
    current = script(worktree);
    const rec = context("Write hello.txt", "deny");
    await new AcpEngine().run(rec.ctx);
    expect(existsSync(path.join(worktree, "hello.txt"))).toBe(false);
    expect(ofType(rec.events, "agent.permission")[0]?.payload.decision).toBe("denied");
  });

  it("a cancel stops Claude Code through session/cancel", async () => {
    current = script(worktree, { slow: true });
    const rec = context("Write hello.txt", "allow");
    // Longer than the test: the adapter has to stop because it was asked to.
    const running = new AcpEngine({ graceMs: 120_000 }).run(rec.ctx);
    const before = server.requests.length;
    await server.waitForRequest(before + 1);
    while (!server.requests.some((r) => r.stream)) await server.waitForRequest(server.requests.length + 1);
    rec.controller.abort();
    await expect(running).rejects.toMatchObject({ reason: "cancelled" });
  });
});
