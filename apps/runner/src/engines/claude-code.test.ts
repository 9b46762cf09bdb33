/**
 * How the claude_code engine is tested, and why:
 *
 * The real CLI (`@anthropic-ai/claude-code`, a devDependency of this package, pinned) does
 * install from the npm registry and runs offline when ANTHROPIC_BASE_URL points at the
 * local Messages API server of @agentboard/testkit, so the main tests drive the real
 * `claude` binary end to end: it edits files and runs commands in a temp worktree from a
 * scripted model, and we check the files, events, metrics, max turns and cancellation.
 *
 * Besides, the stream parser is tested as a pure function on a transcript recorded from
 * that same real CLI (fixtures/claude-code-stream.jsonl, paths rewritten), and a tiny fake
 * `claude` script replays it to pin down the command line and environment we pass.
 */
import { startMessagesServer, type MessagesServer, type RecordedRequest, type Turn } from "@agentboard/testkit/messages-server";
import { chmod, mkdir, readdir, readFile, readlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isProcessAlive } from "@agentboard/sandbox";
import { ClaudeCodeEngine, outcome, parseClaudeStream } from "./claude-code.js";
import { RunInbox } from "../run/inbox.js";
import { makeTempDir, recordingContext, type RecordingContext } from "./testing.js";
import { EngineError, type ApprovalAsk, type EngineContext } from "./types.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.join(here, "fixtures/claude-code-stream.jsonl");
const REAL_CLAUDE = path.join(path.dirname(createRequire(import.meta.url).resolve("@anthropic-ai/claude-code/package.json")), "bin/claude.exe");
const KEY = "sk-ant-cc-test";
const MODEL = "claude-sonnet-4-6";

let worktree: string;
let home: string;
let server: MessagesServer | undefined;
const cleanups: Array<() => Promise<void>> = [];

beforeEach(async () => {
  const wt = await makeTempDir("cc-worktree");
  const h = await makeTempDir("cc-home");
  worktree = wt.dir;
  home = h.dir;
  cleanups.push(wt.cleanup, h.cleanup);
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const c of cleanups.splice(0)) await c();
});

function context(extra: Partial<EngineContext> = {}): RecordingContext {
  return recordingContext({
    worktree,
    model: MODEL,
    prompt: "bump the version in notes.txt",
    // Its own HOME: the CLI keeps state under ~/.claude.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8" },
    anthropic: server ? { apiKey: KEY, baseURL: server.url } : undefined,
    ...extra,
  });
}

/** Live (non-zombie) processes whose working directory is the worktree. */
async function processesIn(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => null);
    if (cwd === dir && isProcessAlive(pid)) pids.push(pid);
  }
  return pids;
}

function lastToolResults(req: RecordedRequest): Array<{ content: string; is_error: boolean }> {
  const last = req.body.messages.at(-1);
  if (!last || typeof last.content === "string") return [];
  return last.content.flatMap((b) =>
    b.type === "tool_result" ? [{ content: typeof b.content === "string" ? b.content : JSON.stringify(b.content), is_error: b.is_error === true }] : [],
  );
}

describe("claude-code stream parser (recorded transcript)", () => {
  it("turns the transcript into events and a result", async () => {
    const { events, parser } = parseClaudeStream(await readFile(FIXTURE, "utf8"));
    expect(events.map((e) => e.type)).toEqual([
      "agent.thinking",
      "agent.message",
      "tool.call",
      "tool.result",
      "tool.call",
      "tool.result",
      "tool.call",
      "tool.call",
      "tool.result",
      "tool.result",
      "agent.message",
      "agent.usage",
    ]);
    expect(events[2]).toMatchObject({ type: "tool.call", payload: { name: "Read", input: { file_path: "/srv/worktrees/run-1/notes.txt" } } });
    expect(events[5]).toMatchObject({ type: "tool.result", payload: { name: "Read", isError: true } });
    expect(events[9]).toMatchObject({ type: "tool.result", payload: { name: "Bash", output: "built\nversion = 2", isError: false } });
    expect(outcome(parser)).toEqual({
      summary: "Bumped the version in notes.txt to 2.",
      tokensIn: 4_800,
      tokensOut: 145,
      costUsd: 0.016035,
      toolCalls: 4,
      turns: 5,
    });
  });

  it("maps error results to engine errors", () => {
    const maxTurns = parseClaudeStream(
      JSON.stringify({
        type: "result",
        subtype: "error_max_turns",
        is_error: true,
        num_turns: 2,
        total_cost_usd: 0.01,
        usage: { input_tokens: 10, output_tokens: 2 },
        errors: ["Reached maximum number of turns (1)"],
      }),
    );
    expect(() => outcome(maxTurns.parser)).toThrow(expect.objectContaining({ reason: "max_turns" }));
    const budget = parseClaudeStream(
      JSON.stringify({
        type: "result",
        subtype: "error_max_budget_usd",
        is_error: true,
        num_turns: 1,
        total_cost_usd: 0.00366,
        usage: { input_tokens: 0, output_tokens: 0 },
        modelUsage: { "claude-sonnet-4-6": { inputTokens: 1000, outputTokens: 40, cacheReadInputTokens: 200 } },
      }),
    );
    expect(() => outcome(budget.parser)).toThrow(expect.objectContaining({ reason: "budget_exceeded" }));
    // Zero `usage` on this failure: the tokens come from modelUsage.
    expect(budget.events.at(-1)).toEqual({ type: "agent.usage", payload: { tokensIn: 1_200, tokensOut: 40, costUsd: 0.00366 } });
    const failed = parseClaudeStream('{"type":"result","subtype":"error_during_execution","is_error":true,"errors":["API Error: 500"]}');
    expect(() => outcome(failed.parser)).toThrow(expect.objectContaining({ reason: "engine_error", message: expect.stringContaining("API Error: 500") }));
    expect(() => outcome(parseClaudeStream("not json\n").parser)).toThrow(expect.objectContaining({ reason: "engine_error" }));
    // Claude Code without credentials: a "success" that is an error, "Not logged in".
    const loggedOut = parseClaudeStream('{"type":"result","subtype":"success","is_error":true,"result":"Not logged in · Please run /login","num_turns":1}');
    expect(() => outcome(loggedOut.parser)).toThrow(
      expect.objectContaining({
        reason: "no_api_key",
        message: expect.stringMatching(/^Claude Code is not signed in on this runner: give the runner an Anthropic API key/),
      }),
    );
    expect(() => outcome(loggedOut.parser)).not.toThrow(/failed \(success\)/);
    const oddSuccess = parseClaudeStream('{"type":"result","subtype":"success","is_error":true,"result":"something else"}');
    expect(() => outcome(oddSuccess.parser)).toThrow("Claude Code reported an error: something else");
  });
});

describe("claude-code engine with a fake CLI replaying the transcript", () => {
  async function fakeClaude(body: string): Promise<string> {
    const bin = path.join(home, "bin");
    await mkdir(bin, { recursive: true });
    const file = path.join(bin, "claude");
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  }

  it("passes the prompt, options and credentials, and reports the stream", async () => {
    const argsFile = path.join(home, "args.txt");
    const bin = await fakeClaude(
      `for a in "$@"; do printf '%s\\n' "$a" >> '${argsFile}'; done\n` +
        `printf 'key=%s url=%s pwd=%s\\n' "$ANTHROPIC_API_KEY" "$ANTHROPIC_BASE_URL" "$(pwd)" >&2\n` +
        `cat '${FIXTURE}'`,
    );
    const rec = context({
      prompt: "-starts with a dash",
      maxTurns: 7,
      anthropic: { apiKey: "sk-fake", baseURL: "http://127.0.0.1:9" },
      env: { PATH: `${path.dirname(bin)}:/usr/bin:/bin`, HOME: home },
    });
    const result = await new ClaudeCodeEngine().run(rec.ctx);
    expect(result).toMatchObject({ summary: "Bumped the version in notes.txt to 2.", toolCalls: 4, turns: 5, costUsd: 0.016035 });
    const args = (await readFile(argsFile, "utf8")).split("\n").slice(0, -1);
    expect(args.slice(0, 4)).toEqual(["-p", "--output-format", "stream-json", "--verbose"]);
    expect(args).toContain("--no-session-persistence");
    expect(args.join(" ")).toContain("--permission-mode bypassPermissions");
    expect(args.join(" ")).toContain(`--model ${MODEL}`);
    expect(args.join(" ")).toContain("--max-turns 7");
    expect(args.slice(-2)).toEqual(["--", "-starts with a dash"]);
    expect(rec.output()).toContain(`key=sk-fake url=http://127.0.0.1:9 pwd=${worktree}`);
    expect(rec.events.filter((e) => e.type === "tool.call")).toHaveLength(4);
  });

  it("keeps a session only as a regular file inside the CLI's own state: links to host files put in its place are not taken", async () => {
    const id = "d063ddbd-21d5-48fc-a5e0-e812d9b87454"; // the fixture's session
    const secret = path.join(home, "host-secret.txt");
    await writeFile(secret, "HOST-SECRET\n");
    const elsewhere = path.join(home, "elsewhere");
    await mkdir(path.join(elsewhere, "x"), { recursive: true });
    await writeFile(path.join(elsewhere, "x", `${id}.jsonl`), "NOT THE CLI'S\n");
    const sessions = await makeTempDir("cc-sessions-links");
    cleanups.push(sessions.cleanup);
    // What a hostile agent inside the sandbox could leave in its HOME, then the honest case.
    const writes = {
      "a link to a host file": `mkdir -p "$CLAUDE_CONFIG_DIR/projects/x" && ln -s '${secret}' "$CLAUDE_CONFIG_DIR/projects/x/${id}.jsonl"`,
      "the projects folder swapped for a link": `ln -s '${elsewhere}' "$CLAUDE_CONFIG_DIR/projects"`,
      "a regular file": `mkdir -p "$CLAUDE_CONFIG_DIR/projects/x" && echo SESSION > "$CLAUDE_CONFIG_DIR/projects/x/${id}.jsonl"`,
    };
    const kept: Record<string, string[]> = {};
    for (const [what, write] of Object.entries(writes)) {
      const bin = await fakeClaude(`${write}\ncat '${FIXTURE}'`);
      await new ClaudeCodeEngine({ bin, sessionsDir: sessions.dir }).run(context().ctx);
      kept[what] = await readdir(sessions.dir);
    }
    expect(kept).toEqual({ "a link to a host file": [], "the projects folder swapped for a link": [], "a regular file": [`${id}.jsonl`] });
    expect(await readFile(path.join(sessions.dir, `${id}.jsonl`), "utf8")).toBe("SESSION\n");
  });

  it("finds the CLI through CLAUDE_CODE_BIN", async () => {
    const bin = await fakeClaude(`cat '${FIXTURE}'`);
    const rec = context({ env: { PATH: "/usr/bin:/bin", HOME: home, CLAUDE_CODE_BIN: bin } });
    await expect(new ClaudeCodeEngine().run(rec.ctx)).resolves.toMatchObject({ turns: 5 });
  });

  it("reports a CLI that dies without a result", async () => {
    const bin = await fakeClaude("echo 'Invalid API key' >&2; exit 1");
    const err = await new ClaudeCodeEngine({ bin }).run(context().ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "engine_error", message: expect.stringContaining("Invalid API key") });
  });

  it("fails clearly when the CLI is not installed", async () => {
    const rec = context({ env: { PATH: path.join(home, "empty"), HOME: home } });
    const saved = process.env.CLAUDE_CODE_BIN;
    delete process.env.CLAUDE_CODE_BIN;
    try {
      const err = await new ClaudeCodeEngine().run(rec.ctx).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect(err).toMatchObject({ reason: "engine_error", message: expect.stringContaining("Claude Code CLI not found") });
    } finally {
      if (saved !== undefined) process.env.CLAUDE_CODE_BIN = saved;
    }
  });
});

describe("claude-code engine with the real CLI against the local Messages API", () => {
  const engine = (): ClaudeCodeEngine => new ClaudeCodeEngine({ bin: REAL_CLAUDE });

  it("edits a file, runs a command and reports metrics", async () => {
    const notes = path.join(worktree, "notes.txt");
    await writeFile(notes, "version = 1\n");
    const script: Turn[] = [
      {
        text: "Reading the notes.",
        content: [{ type: "tool_use", name: "Read", input: { file_path: notes } }],
        usage: { input_tokens: 1_000, output_tokens: 40 },
      },
      {
        content: [{ type: "tool_use", name: "Edit", input: { file_path: notes, old_string: "version = 1", new_string: "version = 2" } }],
        usage: { input_tokens: 1_100, output_tokens: 30 },
      },
      {
        content: [{ type: "tool_use", name: "Bash", input: { command: "cat notes.txt && echo checked", description: "Check" } }],
        usage: { input_tokens: 1_200, output_tokens: 20 },
      },
      { text: "Bumped the version to 2.", usage: { input_tokens: 1_300, output_tokens: 10 } },
    ];
    server = await startMessagesServer({ apiKey: KEY, script });
    const rec = context({ maxTurns: 10 });
    const result = await engine().run(rec.ctx);

    expect(await readFile(notes, "utf8")).toBe("version = 2\n");
    expect(result.summary).toBe("Bumped the version to 2.");
    expect(result.toolCalls).toBe(3);
    expect(result.tokensIn).toBe(4_600);
    expect(result.tokensOut).toBe(100);
    expect(result.costUsd).toBeCloseTo((4_600 * 3 + 100 * 15) / 1e6, 8);
    expect(result.turns).toBeGreaterThanOrEqual(4);

    const calls = rec.events.flatMap((e) => (e.type === "tool.call" ? [e.payload.name] : []));
    expect(calls).toEqual(["Read", "Edit", "Bash"]);
    const bash = rec.events.find((e) => e.type === "tool.result" && e.payload.name === "Bash");
    expect(bash).toMatchObject({ payload: { isError: false, output: expect.stringContaining("checked") } });
    expect(rec.events).toContainEqual({ type: "agent.message", payload: { role: "assistant", text: "Reading the notes." } });

    // The scripted model really received the CLI's tool results.
    const reqs = server.requests;
    expect(reqs.length).toBe(4);
    expect(reqs[0]?.body.model).toBe(MODEL);
    expect(lastToolResults(reqs[3] as RecordedRequest)[0]?.content).toContain("version = 2");
  });

  it("stops at max turns", async () => {
    server = await startMessagesServer({
      apiKey: KEY,
      script: () => ({ content: [{ type: "tool_use", name: "Bash", input: { command: "true", description: "noop" } }] }),
    });
    const err = await engine()
      .run(context({ maxTurns: 1 }).ctx)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "max_turns" });
  });

  it("cancels during a slow model response and leaves no process behind", async () => {
    server = await startMessagesServer({ apiKey: KEY, script: [{ text: "too late", delayMs: 30_000 }] });
    const rec = context();
    const running = engine()
      .run(rec.ctx)
      .catch((e: unknown) => e);
    await server.waitForRequest(1);
    expect((await processesIn(worktree)).length).toBeGreaterThan(0);
    const started = Date.now();
    rec.controller.abort();
    const err = await running;
    expect(err).toMatchObject({ reason: "cancelled" });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(await processesIn(worktree)).toEqual([]);
  });
});

/** Every text the request's conversation holds, in order, with its role. */
function conversationTexts(req: RecordedRequest): string[] {
  return req.body.messages.flatMap((m) =>
    typeof m.content === "string"
      ? [`${m.role}: ${m.content}`]
      : m.content.flatMap((b) => (b.type === "text" && !b.text.startsWith("<system-reminder>") ? [`${m.role}: ${b.text}`] : [])),
  );
}

describe("claude-code follow-ups (real CLI): the session is resumed on the runner that kept it", () => {
  async function firstRun(sessionsDir: string) {
    const rec = context({ prompt: "Remember the word pelican." });
    let sessionId: string | null = null;
    rec.ctx.onSession = (id) => {
      sessionId = id;
    };
    const first = await new ClaudeCodeEngine({ bin: REAL_CLAUDE, sessionsDir }).run(rec.ctx);
    expect(first.summary).toBe("Noted: pelican.");
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    return sessionId as unknown as string;
  }

  it("a follow-up resumes the session: its request to the model carries the earlier turns, then the new message", async () => {
    const sessions = await makeTempDir("cc-sessions");
    cleanups.push(sessions.cleanup);
    server = await startMessagesServer({ apiKey: KEY, script: [{ text: "Noted: pelican." }, { text: "The word was pelican." }] });
    const sessionId = await firstRun(sessions.dir);
    expect(await readdir(sessions.dir)).toEqual([`${sessionId}.jsonl`]);

    // The follow-up runs in the checkout the runner took over (renamed for the new run).
    const moved = await makeTempDir("cc-worktree-followup");
    cleanups.push(moved.cleanup);
    const rec = context({
      worktree: moved.dir,
      prompt: "Which word did I ask you to remember?",
      resume: { transcript: null, sessionId, seed: "SEED OF THE THREAD" },
    });
    const second = await new ClaudeCodeEngine({ bin: REAL_CLAUDE, sessionsDir: sessions.dir }).run(rec.ctx);
    expect(second.summary).toBe("The word was pelican.");
    expect(rec.events).toContainEqual({ type: "agent.context", payload: { mode: "resumed", reason: null, sessionId } });

    expect(server.requests).toHaveLength(2);
    const texts = conversationTexts(server.requests[1] as RecordedRequest);
    expect(texts.filter((t) => /pelican|Which word/.test(t))).toEqual([
      "user: Remember the word pelican.",
      "assistant: Noted: pelican.",
      "user: Which word did I ask you to remember?",
    ]);
    expect(texts.join("\n")).not.toContain("SEED OF THE THREAD");
  });

  it("on a runner that does not have the session, the follow-up starts a new one seeded with the thread's summary, and says so", async () => {
    const here = await makeTempDir("cc-sessions-a");
    const elsewhere = await makeTempDir("cc-sessions-b");
    cleanups.push(here.cleanup, elsewhere.cleanup);
    server = await startMessagesServer({ apiKey: KEY, script: [{ text: "Noted: pelican." }, { text: "I do not know." }] });
    const sessionId = await firstRun(here.dir);
    const rec = context({ prompt: "Which word did I ask you to remember?", resume: { transcript: null, sessionId, seed: "SEED OF THE THREAD" } });
    await new ClaudeCodeEngine({ bin: REAL_CLAUDE, sessionsDir: elsewhere.dir }).run(rec.ctx);
    expect(rec.events).toContainEqual({ type: "agent.context", payload: { mode: "seeded", reason: "session_not_on_this_runner", messages: 1 } });
    const texts = conversationTexts(server.requests[1] as RecordedRequest);
    expect(texts.filter((t) => /pelican|Which word|SEED/.test(t))).toEqual([
      "user: SEED OF THE THREAD\n\n## What to do now\nWhich word did I ask you to remember?",
    ]);
  });
});

describe("claude-code messages while it works (real CLI, streaming input)", () => {
  it("a message sent while the CLI works reaches the model's next request, and the run ends once all is answered", async () => {
    const heard = (req: RecordedRequest) => JSON.stringify(req.body.messages).includes("use tabs");
    server = await startMessagesServer({
      apiKey: KEY,
      script: (req) =>
        heard(req)
          ? { text: "Using tabs from now on." }
          : req.body.messages.length === 1
            ? { content: [{ type: "tool_use", name: "Bash", input: { command: "sleep 2 && echo slept", description: "Wait" } }] }
            : { text: "Done, and nobody said anything." },
    });
    const inbox = new RunInbox();
    const rec = context({ inbox, prompt: "Tidy the code." });
    const running = new ClaudeCodeEngine({ bin: REAL_CLAUDE }).run(rec.ctx);
    await server.waitForRequest(1);
    inbox.put({ id: "m1", text: "use tabs", author: "user:mia@example.com" });
    const result = await running;

    expect(rec.events).toContainEqual({ type: "agent.user_message", payload: { messageId: "m1", text: "use tabs" } });
    const first = server.requests.findIndex(heard);
    expect(first).toBeGreaterThan(0);
    // The CLI hands it to the model with the next tool result (its own reminder around it).
    expect(lastToolResults(server.requests[first] as RecordedRequest)[0]?.content).toContain("A message from user:mia@example.com while you work:\nuse tabs");
    expect(conversationTexts(server.requests[0] as RecordedRequest)).toContain("user: Tidy the code.");
    expect(result.summary).toBe("Using tabs from now on.");
    expect(inbox.pending()).toBe(0);
  });
});

describe("claude-code engine under an approval policy (real CLI, its permission prompt)", () => {
  it("asks before commands and writes: an approved command runs, a denied write is not made, reads never ask", async () => {
    const notes = path.join(worktree, "notes.txt");
    await writeFile(notes, "version = 1\n");
    server = await startMessagesServer({
      apiKey: KEY,
      script: [
        { content: [{ type: "tool_use", name: "Read", input: { file_path: notes } }] },
        { content: [{ type: "tool_use", name: "Bash", input: { command: "echo approved > ran.txt && cat ran.txt", description: "Run" } }] },
        { content: [{ type: "tool_use", name: "Write", input: { file_path: path.join(worktree, "denied.txt"), content: "no\n" } }] },
        { text: "Done." },
      ],
    });
    const asked: ApprovalAsk[] = [];
    const rec = context({
      maxTurns: 10,
      approval: "writes",
      requestApproval: async (ask) => {
        asked.push(ask);
        const deny = ask.subject.kind === "write";
        return { decision: deny ? "denied" : "granted", by: "member:alice", note: deny ? "not that file" : null, timeoutMs: 60_000 };
      },
    });
    const result = await new ClaudeCodeEngine({ bin: REAL_CLAUDE }).run(rec.ctx);
    expect(result.summary).toBe("Done.");
    expect(asked).toEqual([
      { tool: "Bash", subject: { kind: "command", command: "echo approved > ran.txt && cat ran.txt" } },
      { tool: "Write", subject: { kind: "write", path: "denied.txt", action: "create", preview: "no\n", truncated: false } },
    ]);
    expect(await readFile(path.join(worktree, "ran.txt"), "utf8")).toBe("approved\n");
    await expect(readFile(path.join(worktree, "denied.txt"), "utf8")).rejects.toThrow();
    const told = lastToolResults(server.requests.at(-1) as RecordedRequest)[0];
    expect(told).toMatchObject({ is_error: true, content: expect.stringContaining("not that file") });
  });

  it("a cancel while the CLI waits for a person stops it at once, with nothing run and no process left", async () => {
    server = await startMessagesServer({
      apiKey: KEY,
      script: [{ content: [{ type: "tool_use", name: "Bash", input: { command: "touch waited.txt", description: "Touch" } }] }, { text: "never" }],
    });
    let asked!: () => void;
    const waiting = new Promise<void>((resolve) => (asked = resolve));
    const rec = context({
      approval: "commands",
      // Like the runner's gate: no answer comes, and the wait ends with the stop.
      requestApproval: () =>
        new Promise((_, reject) => {
          asked();
          rec.ctx.signal.addEventListener("abort", () => reject(new EngineError("cancelled", "run cancelled")), { once: true });
        }),
    });
    const running = new ClaudeCodeEngine({ bin: REAL_CLAUDE }).run(rec.ctx).catch((e: unknown) => e);
    await waiting;
    const started = Date.now();
    rec.controller.abort();
    expect(await running).toMatchObject({ reason: "cancelled" });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(await processesIn(worktree)).toEqual([]);
    await expect(readFile(path.join(worktree, "waited.txt"), "utf8")).rejects.toThrow();
    expect(server.requests).toHaveLength(1);
  });
});
