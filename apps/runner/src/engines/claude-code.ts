/**
 * The `claude_code` engine: the Claude Code CLI run headless in the worktree
 * (`claude -p … --output-format stream-json --verbose`), its JSON lines turned into
 * engine events and its final `result` line into the run's metrics.
 */
import { constants } from "node:fs";
import { access, copyFile, mkdir, mkdtemp, open, readdir, realpath, rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import path from "node:path";
import type { Writable } from "node:stream";
import { z } from "zod";
import { abortError, throwIfAborted } from "./abort.js";
import { startPermissionBridge, type PermissionBridge } from "./claude-code-approvals.js";
import { costUsd } from "./pricing.js";
import { BoundedOutput, createLineSplitter, DEFAULT_GRACE_MS, plainStarter, type ExitInfo } from "@agentboard/sandbox";
import { EngineError, type AgentEngine, type EngineContext, type EngineEvent, type EngineResult } from "./types.js";

// ---------------------------------------------------------------------------------------
// Stream parser (pure): one JSON line in, engine events out.
// ---------------------------------------------------------------------------------------

const textBlock = z.object({ type: z.literal("text"), text: z.string() });
const thinkingBlock = z.object({ type: z.literal("thinking"), thinking: z.string() });
const toolUseBlock = z.object({ type: z.literal("tool_use"), id: z.string(), name: z.string(), input: z.unknown() });
const toolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string(),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() }))]).optional(),
  is_error: z.boolean().nullish(),
});
// Any other block (images, server tools…) passes through unreported.
const anyBlock = z.looseObject({ type: z.string() });

const messageLine = z.object({
  type: z.enum(["assistant", "user"]),
  message: z.looseObject({ content: z.union([z.string(), z.array(anyBlock)]) }),
});

const usageShape = z.looseObject({
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});

const modelUsageShape = z.looseObject({
  inputTokens: z.number().optional(),
  outputTokens: z.number().optional(),
  cacheReadInputTokens: z.number().optional(),
  cacheCreationInputTokens: z.number().optional(),
  costUSD: z.number().optional(),
});

const resultLine = z.looseObject({
  type: z.literal("result"),
  subtype: z.string(),
  is_error: z.boolean().optional(),
  result: z.string().optional(),
  num_turns: z.number().optional(),
  total_cost_usd: z.number().optional(),
  usage: usageShape.optional(),
  modelUsage: z.record(z.string(), modelUsageShape).optional(),
  errors: z.array(z.string()).optional(),
  api_error_status: z.number().nullish(),
});

const initLine = z.looseObject({
  type: z.literal("system"),
  subtype: z.literal("init"),
  model: z.string().optional(),
  session_id: z.string().max(200).optional(),
});

export interface ClaudeCodeFinal {
  subtype: string;
  isError: boolean;
  summary: string;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  turns: number;
  errors: string[];
}

function toolResultText(content: z.infer<typeof toolResultBlock>["content"]): string {
  if (content === undefined) return "";
  if (typeof content === "string") return content;
  return content.map((c) => (c.type === "text" ? (c.text ?? "") : `[${c.type}]`)).join("\n");
}

/**
 * Incremental parser of Claude Code's stream-json output. Keeps the tool names (results
 * only carry the tool_use id), counts tool calls, and captures the final `result` line.
 */
export class ClaudeStreamParser {
  private readonly toolNames = new Map<string, string>();
  /** The run's model, then the one the CLI says it uses (its init line). */
  model: string | undefined;
  toolCalls = 0;
  lastText = "";
  final: ClaudeCodeFinal | undefined;
  /** How many `result` lines came (one per prompt taken from streaming input). */
  results = 0;
  /** The CLI's session id, from its init line. */
  sessionId: string | undefined;

  constructor(private readonly fallbackModel?: string) {}

  /** Events for one line of output; lines that are not JSON objects are shown as output. */
  push(line: string): EngineEvent[] {
    const trimmed = line.trim();
    if (trimmed === "") return [];
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      return [{ type: "command.output", payload: { stream: "stdout", text: `${line}\n` } }];
    }

    const init = initLine.safeParse(json);
    if (init.success) {
      this.model = init.data.model;
      if (init.data.session_id && /^[A-Za-z0-9_.:-]+$/.test(init.data.session_id)) this.sessionId = init.data.session_id;
      return [];
    }

    const msg = messageLine.safeParse(json);
    if (msg.success) return this.message(msg.data);

    const res = resultLine.safeParse(json);
    if (res.success) return this.result(res.data);

    // Other system lines (thinking_tokens, hooks, compaction…) carry nothing to report.
    return [];
  }

  private message(line: z.infer<typeof messageLine>): EngineEvent[] {
    const role = line.type;
    const content = line.message.content;
    if (typeof content === "string") {
      return content.trim() === "" ? [] : [{ type: "agent.message", payload: { role, text: content } }];
    }
    const events: EngineEvent[] = [];
    for (const raw of content) {
      const text = textBlock.safeParse(raw);
      if (text.success) {
        if (text.data.text.trim() === "") continue;
        if (role === "assistant") this.lastText = text.data.text;
        events.push({ type: "agent.message", payload: { role, text: text.data.text } });
        continue;
      }
      const thinking = thinkingBlock.safeParse(raw);
      if (thinking.success) {
        if (thinking.data.thinking.trim() !== "") events.push({ type: "agent.thinking", payload: { text: thinking.data.thinking } });
        continue;
      }
      const use = toolUseBlock.safeParse(raw);
      if (use.success) {
        this.toolCalls++;
        this.toolNames.set(use.data.id, use.data.name);
        events.push({ type: "tool.call", payload: { id: use.data.id, name: use.data.name, input: use.data.input } });
        continue;
      }
      const result = toolResultBlock.safeParse(raw);
      if (result.success) {
        events.push({
          type: "tool.result",
          payload: {
            id: result.data.tool_use_id,
            name: this.toolNames.get(result.data.tool_use_id) ?? "unknown",
            output: toolResultText(result.data.content),
            isError: result.data.is_error === true,
          },
        });
      }
    }
    return events;
  }

  private result(line: z.infer<typeof resultLine>): EngineEvent[] {
    // On some failures `usage` is all zeros while modelUsage has the real figures.
    const perModel = Object.entries(line.modelUsage ?? {});
    let tokensIn: number;
    let tokensOut: number;
    const fromModels = perModel.reduce(
      (acc, [, u]) => ({
        input: acc.input + (u.inputTokens ?? 0) + (u.cacheReadInputTokens ?? 0) + (u.cacheCreationInputTokens ?? 0),
        output: acc.output + (u.outputTokens ?? 0),
      }),
      { input: 0, output: 0 },
    );
    const u = line.usage;
    const fromUsage = {
      input: (u?.input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0) + (u?.cache_read_input_tokens ?? 0),
      output: u?.output_tokens ?? 0,
    };
    if (fromUsage.input + fromUsage.output >= fromModels.input + fromModels.output) {
      tokensIn = fromUsage.input;
      tokensOut = fromUsage.output;
    } else {
      tokensIn = fromModels.input;
      tokensOut = fromModels.output;
    }
    const cost =
      line.total_cost_usd ??
      costUsd(this.model ?? this.fallbackModel ?? "", {
        inputTokens: u?.input_tokens ?? 0,
        outputTokens: u?.output_tokens ?? 0,
        cacheCreationInputTokens: u?.cache_creation_input_tokens ?? 0,
        cacheReadInputTokens: u?.cache_read_input_tokens ?? 0,
      });
    this.results += 1;
    this.final = {
      subtype: line.subtype,
      isError: line.is_error === true || line.subtype !== "success",
      summary: line.result ?? this.lastText,
      tokensIn,
      tokensOut,
      costUsd: cost,
      turns: line.num_turns ?? 0,
      errors: line.errors ?? [],
    };
    return [{ type: "agent.usage", payload: { tokensIn, tokensOut, costUsd: cost } }];
  }
}

/** Parses a whole transcript at once (tests, replays). */
export function parseClaudeStream(text: string, model?: string): { events: EngineEvent[]; parser: ClaudeStreamParser } {
  const parser = new ClaudeStreamParser(model);
  const events = text.split("\n").flatMap((line) => parser.push(line));
  return { events, parser };
}

/** The engine's result, or the EngineError, for a finished stream. */
export function outcome(parser: ClaudeStreamParser): EngineResult {
  const f = parser.final;
  if (!f) throw new EngineError("engine_error", "Claude Code ended without a result");
  if (f.subtype === "error_max_turns") {
    throw new EngineError("max_turns", `Claude Code stopped at its turn limit after ${f.turns} turns`);
  }
  if (f.subtype === "error_max_budget_usd" || f.subtype.includes("budget")) {
    throw new EngineError("budget_exceeded", `Claude Code reached its budget ($${f.costUsd.toFixed(4)} spent)`);
  }
  if (f.isError) {
    const why = [...f.errors, f.summary].filter((s) => s.trim() !== "").join("; ");
    // Without credentials Claude Code ends with subtype "success", is_error and "Not logged in".
    if (/not logged in|invalid api key|please run \/login/i.test(why)) {
      throw new EngineError(
        "no_api_key",
        "Claude Code is not signed in on this runner: give the runner an Anthropic API key (ANTHROPIC_API_KEY) " +
          `or sign Claude Code in on its machine (Claude Code said: ${why})`,
      );
    }
    const what = f.subtype === "success" ? "Claude Code reported an error" : `Claude Code failed (${f.subtype})`;
    throw new EngineError("engine_error", `${what}${why ? `: ${why}` : ""}`);
  }
  return {
    summary: f.summary || parser.lastText,
    tokensIn: f.tokensIn,
    tokensOut: f.tokensOut,
    costUsd: f.costUsd,
    toolCalls: parser.toolCalls,
    turns: f.turns,
  };
}

// ---------------------------------------------------------------------------------------
// Engine
// ---------------------------------------------------------------------------------------

export interface ClaudeCodeEngineOptions {
  /** Path of the `claude` executable; else CLAUDE_CODE_BIN, else `claude` on PATH. */
  bin?: string;
  graceMs?: number;
  /** Extra CLI arguments, placed before the prompt. */
  extraArgs?: readonly string[];
  /**
   * Runner-owned directory where the CLI's sessions are kept between runs, so that a
   * follow-up on this runner resumes its parent's session (`--resume`). Without it, or for a
   * run in a confining sandbox (whose HOME is its own and goes with it), sessions are not
   * kept and a follow-up starts a new session seeded with the thread's summary.
   */
  sessionsDir?: string;
}

const SESSION_ID = /^[A-Za-z0-9_.:-]+$/;
/** The largest session file a runner keeps for a follow-up. */
const SESSION_MAX_BYTES = 64 * 1024 * 1024;

/** How often the inbox is looked at while the CLI works. */
const INBOX_POLL_MS = 200;

/**
 * The CLI's stdin under `--input-format stream-json`: the prompt first, then each message a
 * person sends while it works (`run.sendMessage`), as user messages it takes at its next
 * turn. Once it has answered all it was given, its input ends and it exits.
 */
class StreamingInput {
  private stdin: Writable | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: EngineContext) {}

  start(stdin: Writable | null, prompt: string): void {
    if (!stdin) return;
    this.stdin = stdin;
    // A CLI that exits early closes the pipe; what it did not read is lost with it.
    stdin.on("error", () => undefined);
    this.write(prompt);
    this.timer = setInterval(() => this.handOver(), INBOX_POLL_MS);
  }

  /** A `result` line came: messages that are waiting go in (another turn), else the input ends. */
  answered(): void {
    if (this.handOver() === 0) this.close();
  }

  close(): void {
    clearInterval(this.timer);
    this.stdin?.end();
    this.stdin = null;
  }

  private handOver(): number {
    if (!this.stdin) return 0;
    const taken = this.ctx.inbox?.take() ?? [];
    for (const m of taken) {
      this.ctx.emit({ type: "agent.user_message", payload: { messageId: m.id, text: m.text } });
      this.write(`A message from ${m.author} while you work:\n${m.text}`);
    }
    return taken.length;
  }

  private write(text: string): void {
    this.stdin?.write(`${JSON.stringify({ type: "user", message: { role: "user", content: [{ type: "text", text }] } })}\n`);
  }
}

/** The CLI's folder for a working directory under `<config>/projects/` (every character but a-z A-Z 0-9 becomes "-"). */
function projectFolder(cwd: string): string {
  return cwd.replace(/[^a-zA-Z0-9]/g, "-");
}

/**
 * Where one CLI process keeps its state (CLAUDE_CONFIG_DIR): a fresh directory under the
 * sessions directory, seeded with the session to resume. `keep` moves the session the CLI
 * wrote to `<sessionsDir>/<id>.jsonl` (where the next follow-up looks for it) and removes
 * the rest.
 */
class SessionStore {
  constructor(private readonly dir: string) {}

  file(sessionId: string): string {
    return path.join(this.dir, `${sessionId}.jsonl`);
  }

  async has(sessionId: string): Promise<boolean> {
    return SESSION_ID.test(sessionId) && (await isReadable(this.file(sessionId)));
  }

  /**
   * A new state directory for one CLI process, with the session to resume in it: under the
   * sessions directory, or for a confined CLI inside its sandbox's HOME (`home`, which it can
   * write and the runner reads after it). `inside` is the path the CLI is given.
   */
  async configDir(cwd: string, resume: string | null, home: { host: string; inside: string } | null): Promise<{ host: string; inside: string }> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const host = await mkdtemp(path.join(home?.host ?? this.dir, home ? ".claude-" : "config-"));
    const inside = home ? path.join(home.inside, path.basename(host)) : host;
    if (resume) {
      const folder = path.join(host, "projects", projectFolder(cwd));
      await mkdir(folder, { recursive: true });
      await copyFile(this.file(resume), path.join(folder, `${resume}.jsonl`));
    }
    return { host, inside };
  }

  /**
   * Takes the session the CLI wrote in `config` into the sessions directory. What a
   * confined CLI leaves in its HOME is the agent's to shape, so only a regular file that
   * really lies inside `config` is taken (no symbolic link, no directory swapped for a link
   * elsewhere on the host), by its contents, up to SESSION_MAX_BYTES: the next follow-up
   * copies this file into its sandbox.
   */
  async keep(config: string, sessionId: string | undefined): Promise<void> {
    try {
      if (!sessionId || !SESSION_ID.test(sessionId)) return;
      // `config` itself must still be the directory made for the CLI, not a link put in its place.
      const root = await realpath(config).catch(() => null);
      if (!root || root !== path.join(await realpath(path.dirname(config)), path.basename(config))) return;
      const projects = path.join(config, "projects");
      for (const folder of await readdir(projects).catch(() => [])) {
        if (await this.take(root, path.join(projects, folder, `${sessionId}.jsonl`), sessionId)) return;
      }
    } finally {
      await rm(config, { recursive: true, force: true });
    }
  }

  private async take(root: string, written: string, sessionId: string): Promise<boolean> {
    const file = await open(written, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
    if (!file) return false;
    try {
      const stat = await file.stat();
      const where = await realpath(`/proc/self/fd/${file.fd}`).catch(() => written);
      if (!stat.isFile() || stat.size > SESSION_MAX_BYTES || !where.startsWith(`${root}${path.sep}`)) return false;
      const kept = this.file(sessionId);
      await pipeline(file.createReadStream({ autoClose: false }), (await open(kept, "w", 0o600)).createWriteStream());
      return true;
    } finally {
      await file.close();
    }
  }
}

async function isReadable(file: string): Promise<boolean> {
  try {
    await access(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function locateClaudeCode(opts: { bin?: string; env: Readonly<Record<string, string | undefined>> }): Promise<string | null> {
  const explicit = opts.bin ?? opts.env.CLAUDE_CODE_BIN ?? process.env.CLAUDE_CODE_BIN;
  if (explicit) return (await isExecutable(explicit)) ? explicit : null;
  const dirs = (opts.env.PATH ?? process.env.PATH ?? "").split(path.delimiter).filter((d) => d !== "");
  for (const dir of dirs) {
    const candidate = path.join(dir, "claude");
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

export class ClaudeCodeEngine implements AgentEngine {
  readonly name = "claude_code" as const;

  constructor(private readonly options: ClaudeCodeEngineOptions = {}) {}

  async run(ctx: EngineContext): Promise<EngineResult> {
    throwIfAborted(ctx.signal);
    // The runner's PATH, not the sandbox's: the CLI is found on the host and bound in.
    const bin = await locateClaudeCode({ bin: this.options.bin, env: ctx.starter ? process.env : ctx.env });
    if (!bin) {
      throw new EngineError(
        "engine_error",
        "Claude Code CLI not found: install it (npm install -g @anthropic-ai/claude-code) so that `claude` is on PATH, or set CLAUDE_CODE_BIN to its path",
      );
    }

    // Under an approval policy the CLI asks the runner through its permission prompt
    // (claude-code-approvals.ts) instead of bypassing permissions.
    const bridge = ctx.approval && ctx.approval !== "none" ? await startPermissionBridge(ctx) : null;
    try {
      return await this.runCli(ctx, bin, bridge?.args ?? ["--permission-mode", "bypassPermissions"], bridge ? [bridge.service] : []);
    } finally {
      await bridge?.close();
    }
  }

  private async runCli(ctx: EngineContext, bin: string, permissionArgs: string[], services: PermissionBridge["service"][]): Promise<EngineResult> {
    const starter = ctx.starter ?? plainStarter(ctx.env, ctx.anthropic);
    // Sessions are kept on this runner: a confined CLI writes its state into its sandbox's
    // HOME, from where the runner takes the session when it ends.
    const home = starter.confined ? (starter.home ?? null) : null;
    const store = this.options.sessionsDir && (!starter.confined || home) ? new SessionStore(this.options.sessionsDir) : null;
    const args = ["-p", "--output-format", "stream-json", "--verbose", ...permissionArgs];
    if (!store) args.push("--no-session-persistence");
    if (ctx.model) args.push("--model", ctx.model);
    if (ctx.maxTurns != null) args.push("--max-turns", String(ctx.maxTurns));
    if (ctx.budgetUsd != null) args.push("--max-budget-usd", String(ctx.budgetUsd));
    args.push(...(this.options.extraArgs ?? []));
    // A follow-up resumes the parent's session when this runner kept it; otherwise (another
    // runner, sessions not kept) a new session starts from the thread's summary. Either way
    // an `agent.context` event says which.
    let prompt = ctx.prompt;
    let resumeId: string | null = null;
    if (ctx.resume) {
      const sessionId = ctx.resume.sessionId;
      if (store && sessionId && (await store.has(sessionId))) {
        resumeId = sessionId;
        args.push("--resume", sessionId);
        ctx.emit({ type: "agent.context", payload: { mode: "resumed", reason: null, sessionId } });
      } else {
        prompt = `${ctx.resume.seed}\n\n## What to do now\n${ctx.prompt}`;
        const reason = !sessionId ? "no_session" : store ? "session_not_on_this_runner" : "session_not_kept";
        ctx.emit({ type: "agent.context", payload: { mode: "seeded", reason, messages: 1 } });
      }
    }
    // With an inbox (a runner's run) the prompt, and then the messages people send while the
    // CLI works, go in as streaming input; otherwise the prompt is an argument. `--` so that
    // a prompt starting with "-" is not taken for an option.
    if (ctx.inbox) args.push("--input-format", "stream-json");
    else args.push("--", prompt);

    const config = store ? await store.configDir(await realpath(ctx.worktree), resumeId, home) : null;
    try {
      return await this.spawnCli(ctx, bin, args, ctx.inbox ? prompt : null, services, starter, config?.inside ?? null, (sessionId) =>
        store && config ? store.keep(config.host, sessionId) : Promise.resolve(),
      );
    } catch (err) {
      if (store && config) await store.keep(config.host, undefined);
      throw err;
    }
  }

  private async spawnCli(
    ctx: EngineContext,
    bin: string,
    args: string[],
    streamedPrompt: string | null,
    services: PermissionBridge["service"][],
    starter: NonNullable<EngineContext["starter"]>,
    config: string | null,
    keep: (sessionId: string | undefined) => Promise<void>,
  ): Promise<EngineResult> {
    const env: Record<string, string> = {
      // The CLI phones home for updates and telemetry otherwise; a run needs neither.
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      // Its sessions and state in a directory of the runner's, kept for a follow-up.
      ...(config ? { CLAUDE_CONFIG_DIR: config } : {}),
    };
    // Claude Code refuses to bypass permissions as root unless told it is sandboxed. In a
    // sandbox it runs as an unprivileged user and needs no such word; only a process with
    // the runner's own rights (an unconfined project, an engine test) running as root does.
    if (!starter.confined && process.getuid?.() === 0) env.IS_SANDBOX = "1";
    // The CLI is an npm package: its installation is bound read-only into the sandbox.
    const program = await realpath(bin);

    const parser = new ClaudeStreamParser(ctx.model ?? undefined);
    const stderr = new BoundedOutput(8 * 1024);
    const input = streamedPrompt === null ? null : new StreamingInput(ctx);
    const lines = createLineSplitter((line) => {
      const before = parser.results;
      for (const event of parser.push(line)) ctx.emit(event);
      // The CLI answered everything it was given: hand it what came meanwhile, or end its input.
      if (parser.results > before) input?.answered();
    });
    const proc = starter.start(program, args, {
      ...(input ? { stdin: "pipe" as const } : {}),
      cwd: ctx.worktree,
      env,
      readOnly: [path.dirname(program)],
      // The API key stays with the runner: the CLI talks to its model proxy (or, unconfined, gets the key).
      model: true,
      services,
      signal: ctx.signal,
      graceMs: this.options.graceMs ?? DEFAULT_GRACE_MS,
      onStdout: (text) => lines.push(text),
      onStderr: (text) => {
        stderr.push(text);
        ctx.emit({ type: "command.output", payload: { stream: "stderr", text } });
      },
    });

    if (input && streamedPrompt !== null) input.start(proc.child.stdin, streamedPrompt);
    let exit: ExitInfo;
    try {
      exit = await proc.done;
    } catch (err) {
      throw new EngineError("engine_error", `could not start Claude Code (${bin}): ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      input?.close();
    }
    lines.end();
    await keep(parser.sessionId);
    if (parser.sessionId) ctx.onSession?.(parser.sessionId);
    if (parser.model) ctx.onModel?.(parser.model);
    if (ctx.signal.aborted) throw abortError(ctx.signal);
    if (!parser.final) {
      const how = exit.code !== null ? `exited with code ${exit.code}` : `was killed by ${exit.signal ?? "a signal"}`;
      const tail = stderr.last(2_000).trim();
      throw new EngineError("engine_error", `Claude Code ${how} without a result${tail ? `: ${tail}` : ""}`);
    }
    return outcome(parser);
  }
}
