/**
 * The anthropic engine against a local Messages API server (the real SDK over HTTP),
 * real files in a temp worktree and real child processes.
 */
import { initRepo } from "@agentboard/testkit";
import { startMessagesServer, type MessagesServer, type RecordedRequest, type Turn } from "@agentboard/testkit/messages-server";
import { existsSync } from "node:fs";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isProcessAlive } from "@agentboard/sandbox";
import { AnthropicEngine } from "./anthropic.js";
import { costUsd, priceFor } from "./pricing.js";
import { makeTempDir, pidsFrom, recordingContext, type RecordingContext } from "./testing.js";
import { EngineError, type EngineContext, type EngineEvent } from "./types.js";

const KEY = "sk-ant-test-key";
const MODEL = "claude-sonnet-4-6";

let worktree: string;
let server: MessagesServer | undefined;
const cleanups: Array<() => Promise<void>> = [];

beforeEach(async () => {
  const tmp = await makeTempDir("anthropic-engine");
  worktree = tmp.dir;
  cleanups.push(tmp.cleanup);
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const c of cleanups.splice(0)) await c();
});

async function serve(script: Array<Turn | ((r: RecordedRequest) => Turn)> | ((r: RecordedRequest) => Turn)): Promise<MessagesServer> {
  server = await startMessagesServer({ apiKey: KEY, script });
  return server;
}

function context(extra: Partial<EngineContext> = {}): RecordingContext {
  if (!server) throw new Error("server not started");
  return recordingContext({ worktree, model: MODEL, anthropic: { apiKey: KEY, baseURL: server.url }, ...extra });
}

/** tool_result blocks of the last message of a recorded request. */
function toolResults(req: RecordedRequest): Array<{ tool_use_id: string; content: string; is_error: boolean }> {
  const last = req.body.messages.at(-1);
  if (!last || typeof last.content === "string") return [];
  return last.content.flatMap((b) =>
    b.type === "tool_result" ? [{ tool_use_id: b.tool_use_id, content: String(b.content ?? ""), is_error: b.is_error === true }] : [],
  );
}

function results(events: EngineEvent[]): Array<{ name: string; output: string; isError: boolean }> {
  return events.flatMap((e) => (e.type === "tool.result" ? [{ name: e.payload.name, output: e.payload.output, isError: e.payload.isError }] : []));
}

describe("anthropic engine", () => {
  it("reads, edits, writes, runs a command and ends with a summary", async () => {
    await mkdir(path.join(worktree, "src"));
    await writeFile(path.join(worktree, "src/app.txt"), "greeting = hello\nfarewell = bye\n");
    await serve([
      {
        text: "Let me look at the file.",
        content: [{ type: "tool_use", name: "read_file", input: { path: "src/app.txt" } }],
        usage: { input_tokens: 100, output_tokens: 20 },
      },
      (req) => {
        // React to what the tool really returned.
        const seen = toolResults(req)[0]?.content ?? "";
        if (!seen.includes("greeting = hello")) return { text: `unexpected read result: ${seen}` };
        return {
          content: [{ type: "tool_use", name: "edit_file", input: { path: "src/app.txt", old_string: "hello", new_string: "world" } }],
          usage: { input_tokens: 200, output_tokens: 30 },
        };
      },
      {
        content: [
          { type: "tool_use", name: "write_file", input: { path: "docs/notes.md", content: "# Notes\nchanged greeting\n" } },
          { type: "tool_use", name: "list_files", input: { recursive: true } },
        ],
        usage: { input_tokens: 300, output_tokens: 40 },
      },
      {
        content: [{ type: "tool_use", name: "run_command", input: { command: "cat src/app.txt docs/notes.md && echo ok-$MARK" } }],
        usage: { input_tokens: 400, output_tokens: 50 },
      },
      { text: "Changed the greeting to world and added docs/notes.md.", usage: { input_tokens: 500, output_tokens: 60 } },
    ]);
    const rec = context({ env: { PATH: process.env.PATH ?? "/usr/bin:/bin", MARK: "42" } });
    const result = await new AnthropicEngine().run(rec.ctx);

    expect(await readFile(path.join(worktree, "src/app.txt"), "utf8")).toBe("greeting = world\nfarewell = bye\n");
    expect(await readFile(path.join(worktree, "docs/notes.md"), "utf8")).toBe("# Notes\nchanged greeting\n");
    expect(result.summary).toBe("Changed the greeting to world and added docs/notes.md.");
    expect(result.toolCalls).toBe(5);
    expect(result.turns).toBe(5);
    expect(result.tokensIn).toBe(1500);
    expect(result.tokensOut).toBe(200);
    expect(result.costUsd).toBeCloseTo((1500 * 3 + 200 * 15) / 1e6, 10);

    const res = results(rec.events);
    expect(res.map((r) => r.name)).toEqual(["read_file", "edit_file", "write_file", "list_files", "run_command"]);
    expect(res.every((r) => !r.isError)).toBe(true);
    expect(res[3]?.output).toContain("docs/notes.md");
    expect(res[4]?.output).toContain("exit code 0");
    expect(res[4]?.output).toContain("ok-42");
    expect(rec.events.filter((e) => e.type === "tool.call")).toHaveLength(5);
    expect(rec.events).toContainEqual({ type: "tool.call", payload: expect.objectContaining({ name: "read_file", input: { path: "src/app.txt" } }) });
    expect(rec.events).toContainEqual({ type: "agent.message", payload: { role: "assistant", text: "Let me look at the file." } });
    expect(rec.output()).toContain("ok-42");
    const usage = rec.events.filter((e) => e.type === "agent.usage");
    expect(usage).toHaveLength(5);
    expect(usage.at(-1)).toEqual({ type: "agent.usage", payload: { tokensIn: 1500, tokensOut: 200, costUsd: result.costUsd } });

    // What the model was shown.
    const reqs = server?.requests ?? [];
    expect(reqs).toHaveLength(5);
    expect(reqs.every((r) => r.stream && r.body.model === MODEL)).toBe(true);
    expect(reqs[0]?.body.tools?.map((t) => t.name)).toEqual(["read_file", "write_file", "edit_file", "list_files", "search_files", "run_command"]);
    expect(String(reqs[0]?.body.system)).toContain(worktree);
    expect(reqs[0]?.body.messages).toEqual([{ role: "user", content: "do the task" }]);
    expect(toolResults(reqs[3] as RecordedRequest)).toHaveLength(2);
    expect(toolResults(reqs[4] as RecordedRequest)[0]?.content).toContain("ok-42");
  });

  it("refuses paths that escape the worktree as tool errors and carries on", async () => {
    const outside = await makeTempDir("outside");
    cleanups.push(outside.cleanup);
    await writeFile(path.join(outside.dir, "secret.txt"), "top secret\n");
    await symlink(outside.dir, path.join(worktree, "link"));
    await symlink(path.join(outside.dir, "created-through-link.txt"), path.join(worktree, "dangling"));
    await writeFile(path.join(worktree, "inside.txt"), "fine\n");

    await serve([
      {
        content: [
          { type: "tool_use", name: "read_file", input: { path: "../secret.txt" } },
          { type: "tool_use", name: "read_file", input: { path: path.join(outside.dir, "secret.txt") } },
          { type: "tool_use", name: "read_file", input: { path: "link/secret.txt" } },
          { type: "tool_use", name: "write_file", input: { path: "link/evil.txt", content: "x" } },
          { type: "tool_use", name: "write_file", input: { path: "dangling", content: "x" } },
          { type: "tool_use", name: "edit_file", input: { path: "link/secret.txt", old_string: "top", new_string: "no" } },
          { type: "tool_use", name: "list_files", input: { path: "link" } },
          { type: "tool_use", name: "search_files", input: { pattern: "secret", path: "src/../../" } },
          { type: "tool_use", name: "read_file", input: { path: path.join(worktree, "inside.txt") } },
        ],
      },
      { text: "Could not reach those files." },
    ]);
    const rec = context();
    const result = await new AnthropicEngine().run(rec.ctx);
    expect(result.summary).toBe("Could not reach those files.");

    const res = results(rec.events);
    expect(res).toHaveLength(9);
    for (const r of res.slice(0, 8)) {
      expect(r.isError).toBe(true);
      expect(r.output).toMatch(/outside the worktree/);
      expect(r.output).not.toContain("top secret");
    }
    expect(res[8]).toMatchObject({ isError: false, output: "fine\n" });
    expect(existsSync(path.join(outside.dir, "evil.txt"))).toBe(false);
    expect(existsSync(path.join(outside.dir, "created-through-link.txt"))).toBe(false);
    expect(await readFile(path.join(outside.dir, "secret.txt"), "utf8")).toBe("top secret\n");

    const shown = toolResults(server?.requests[1] as RecordedRequest);
    expect(shown).toHaveLength(9);
    expect(shown.filter((r) => r.is_error)).toHaveLength(8);
  });

  it("reports tool failures to the model: missing or ambiguous edit, failing and timed-out commands", async () => {
    await writeFile(path.join(worktree, "dup.txt"), "a\na\n");
    await serve([
      {
        content: [
          { type: "tool_use", name: "edit_file", input: { path: "dup.txt", old_string: "zzz", new_string: "y" } },
          { type: "tool_use", name: "edit_file", input: { path: "dup.txt", old_string: "a", new_string: "b" } },
          { type: "tool_use", name: "run_command", input: { command: "echo failing; exit 4" } },
          { type: "tool_use", name: "run_command", input: { command: "sleep 30", timeout_seconds: 0.3 } },
          { type: "tool_use", name: "read_file", input: { nope: true } },
          { type: "tool_use", name: "no_such_tool", input: {} },
          { type: "tool_use", name: "search_files", input: { pattern: "(", regex: true } },
        ],
      },
      { content: [{ type: "tool_use", name: "edit_file", input: { path: "dup.txt", old_string: "a", new_string: "b", replace_all: true } }] },
      { text: "done" },
    ]);
    const rec = context();
    const result = await new AnthropicEngine().run(rec.ctx);
    expect(result.toolCalls).toBe(8);
    const res = results(rec.events);
    expect(res.slice(0, 7).map((r) => r.isError)).toEqual([true, true, true, true, true, true, true]);
    expect(res[0]?.output).toContain("not found");
    expect(res[1]?.output).toContain("occurs 2 times");
    expect(res[2]?.output).toContain("exit code 4");
    expect(res[2]?.output).toContain("failing");
    expect(res[3]?.output).toContain("timed out");
    expect(res[4]?.output).toContain("invalid input");
    expect(res[5]?.output).toContain("unknown tool");
    expect(res[6]?.output).toContain("invalid regular expression");
    expect(res[7]).toMatchObject({ isError: false, output: "replaced 2 occurrences in dup.txt" });
    expect(await readFile(path.join(worktree, "dup.txt"), "utf8")).toBe("b\nb\n");
  });

  it("searches files with substring, regex and glob", async () => {
    await mkdir(path.join(worktree, "src/lib"), { recursive: true });
    await mkdir(path.join(worktree, "node_modules/pkg"), { recursive: true });
    await writeFile(path.join(worktree, "src/a.ts"), "export const TODO_one = 1;\n");
    await writeFile(path.join(worktree, "src/lib/b.ts"), "// nothing\n// TODO two\n");
    await writeFile(path.join(worktree, "src/c.md"), "TODO three\n");
    await writeFile(path.join(worktree, "node_modules/pkg/index.ts"), "TODO hidden\n");
    await serve([
      {
        content: [
          { type: "tool_use", name: "search_files", input: { pattern: "TODO" } },
          { type: "tool_use", name: "search_files", input: { pattern: "todo\\s+\\w+", regex: true, case_insensitive: true, glob: "*.ts" } },
          { type: "tool_use", name: "search_files", input: { pattern: "TODO", glob: "src/**/*.ts", max_results: 1 } },
        ],
      },
      { text: "found" },
    ]);
    const rec = context();
    await new AnthropicEngine().run(rec.ctx);
    const res = results(rec.events);
    expect(res[0]?.output.split("\n")).toEqual(["src/a.ts:1: export const TODO_one = 1;", "src/c.md:1: TODO three", "src/lib/b.ts:2: // TODO two"]);
    expect(res[1]?.output).toBe("src/lib/b.ts:2: // TODO two");
    expect(res[2]?.output).toContain("stopped at 1 matches");
  });

  it("in a git worktree, lists and searches what git does not ignore, with real glob syntax", async () => {
    initRepo(worktree, { ".gitignore": "build/\n*.log\n", "src/a.ts": "export const a = 1; // TODO tracked\n" });
    await writeFile(path.join(worktree, "src/new.tsx"), "// TODO untracked\n");
    await mkdir(path.join(worktree, "build"));
    await writeFile(path.join(worktree, "build/out.ts"), "// TODO ignored\n");
    await writeFile(path.join(worktree, "debug.log"), "TODO ignored log\n");
    await serve([
      {
        content: [
          { type: "tool_use", name: "search_files", input: { pattern: "TODO" } },
          { type: "tool_use", name: "search_files", input: { pattern: "TODO", glob: "src/**/*.{ts,tsx}" } },
          { type: "tool_use", name: "search_files", input: { pattern: "TODO", glob: "!(*.tsx)" } },
          { type: "tool_use", name: "search_files", input: { pattern: "TODO", glob: "[ab].ts" } },
          { type: "tool_use", name: "list_files", input: { recursive: true } },
        ],
      },
      { text: "found" },
    ]);
    const rec = context();
    await new AnthropicEngine().run(rec.ctx);
    const res = results(rec.events);
    const both = ["src/a.ts:1: export const a = 1; // TODO tracked", "src/new.tsx:1: // TODO untracked"];
    expect(res[0]?.output.split("\n")).toEqual(both);
    expect(res[1]?.output.split("\n")).toEqual(both);
    expect(res[2]?.output).toBe(both[0]);
    expect(res[3]?.output).toBe(both[0]);
    expect(res[4]?.output.split("\n")).toEqual([".gitignore", "src/", "src/a.ts", "src/new.tsx"]);
  });

  it("stops at max turns", async () => {
    await serve(() => ({ content: [{ type: "tool_use", name: "list_files", input: {} }], usage: { input_tokens: 10, output_tokens: 5 } }));
    const rec = context({ maxTurns: 3 });
    const err = await new AnthropicEngine().run(rec.ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).reason).toBe("max_turns");
    expect(server?.requests).toHaveLength(3);
    // Usage is reported even though the run failed.
    expect(rec.events.filter((e) => e.type === "agent.usage").at(-1)).toMatchObject({ payload: { tokensIn: 30, tokensOut: 15 } });
  });

  it("stops when the budget is reached", async () => {
    await serve(() => ({ content: [{ type: "tool_use", name: "list_files", input: {} }], usage: { input_tokens: 1_000, output_tokens: 100 } }));
    const rec = context({ budgetUsd: 0.008 });
    const err = await new AnthropicEngine().run(rec.ctx).catch((e: unknown) => e);
    expect((err as EngineError).reason).toBe("budget_exceeded");
    // 0.0045 per turn: the second turn crosses 0.008.
    expect(server?.requests).toHaveLength(2);
  });

  it("cancels during a slow model response", async () => {
    await serve([{ text: "too late", delayMs: 30_000 }]);
    const rec = context();
    const running = new AnthropicEngine().run(rec.ctx).catch((e: unknown) => e);
    await server?.waitForRequest(1);
    const started = Date.now();
    rec.controller.abort();
    const err = await running;
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).reason).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("cancels in the middle of a streamed answer", async () => {
    await serve([{ text: "a long answer streamed slowly", chunkDelayMs: 10_000 }]);
    const rec = context();
    const running = new AnthropicEngine().run(rec.ctx).catch((e: unknown) => e);
    await server?.waitForRequest(1);
    const started = Date.now();
    rec.controller.abort();
    expect(await running).toMatchObject({ reason: "cancelled" });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("cancels during a long run_command and leaves no process behind", async () => {
    await serve([
      { content: [{ type: "tool_use", name: "run_command", input: { command: "sleep 30 & echo child:$!; echo leader:$$; wait" } }] },
      { text: "should not get here" },
    ]);
    const rec = context();
    const running = new AnthropicEngine().run(rec.ctx).catch((e: unknown) => e);
    await rec.waitForOutput("leader:");
    const pids = [...pidsFrom(rec.output(), "child"), ...pidsFrom(rec.output(), "leader")];
    expect(pids).toHaveLength(2);
    expect(pids.every((p) => isProcessAlive(p))).toBe(true);
    const started = Date.now();
    rec.controller.abort();
    const err = await running;
    expect((err as EngineError).reason).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(2_000);
    // isProcessAlive rather than a bare kill(pid, 0): see its comment about zombies.
    expect(pids.filter((p) => isProcessAlive(p))).toEqual([]);
    expect(server?.requests).toHaveLength(1);
  });

  it("fails at once without an API key", async () => {
    await serve([{ text: "never" }]);
    const rec = context({ anthropic: { baseURL: server?.url } });
    const err = await new AnthropicEngine().run(rec.ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).reason).toBe("no_api_key");
    expect((err as EngineError).message).toMatch(/API key/);
    expect(server?.requests).toHaveLength(0);
    expect(server?.rejected).toHaveLength(0);
  });

  it("turns API errors into engine errors", async () => {
    await serve([{ text: "never" }]);
    const rec = context({ anthropic: { apiKey: "sk-wrong", baseURL: server?.url } });
    const err = await new AnthropicEngine().run(rec.ctx).catch((e: unknown) => e);
    expect((err as EngineError).reason).toBe("engine_error");
    expect((err as EngineError).message).toContain("401");
  });
});

describe("pricing", () => {
  it("prices current Claude models and falls back sensibly", () => {
    expect(priceFor("claude-opus-4-6")).toEqual({ inputPerMTok: 5, outputPerMTok: 25 });
    expect(priceFor("claude-opus-4-1-20250805")).toEqual({ inputPerMTok: 15, outputPerMTok: 75 });
    expect(priceFor("claude-sonnet-4-5-20250929")).toEqual({ inputPerMTok: 3, outputPerMTok: 15 });
    expect(priceFor("claude-haiku-4-5")).toEqual({ inputPerMTok: 1, outputPerMTok: 5 });
    expect(priceFor("claude-opus-9")).toEqual({ inputPerMTok: 5, outputPerMTok: 25 });
    expect(priceFor("some-other-model")).toEqual({ inputPerMTok: 3, outputPerMTok: 15 });
    expect(costUsd("claude-sonnet-4-6", { inputTokens: 4_600, outputTokens: 145, cacheReadInputTokens: 200 })).toBeCloseTo(0.016035, 10);
  });
});
