/**
 * The `anthropic` engine: an agent loop on the Messages API (streamed) with file and
 * shell tools confined to the run's worktree.
 */
import Anthropic from "@anthropic-ai/sdk";
import { plainStarter } from "@agentboard/sandbox";
import { abortError, throwIfAborted } from "./abort.js";
import { approvalFor, refusalText } from "./approval.js";
import { costUsd } from "./pricing.js";
import { defaultTools, openWorkspace, type AgentTool, type ToolContext } from "./tools/index.js";
import { appendUserText, startingConversation } from "./conversation.js";
import { EngineError, type AgentEngine, type EngineContext, type EngineResult } from "./types.js";

export const DEFAULT_MODEL = "claude-sonnet-4-6";
export const DEFAULT_MAX_TURNS = 50;
export const DEFAULT_MAX_TOKENS = 16_384;

export interface AnthropicEngineOptions {
  defaultModel?: string;
  defaultMaxTurns?: number;
  maxTokens?: number;
  tools?: readonly AgentTool[];
  /** Retries of the SDK for transient API errors (429, 5xx, connection). Default 2. */
  maxRetries?: number;
  /**
   * A follow-up resumes its parent's conversation only up to this size (characters of
   * JSON, about 4 per token); beyond it the conversation starts anew from the thread's summary.
   */
  maxResumeChars?: number;
}

/** About 150k tokens: room left in a 200k context for the answer and the tools. */
export const DEFAULT_MAX_RESUME_CHARS = 600_000;

function systemPrompt(worktree: string, tools: readonly AgentTool[]): string {
  return [
    "You are an autonomous software engineer working alone on a task in a git worktree.",
    `The worktree root is ${worktree}. All file paths you pass to tools are relative to it; you cannot access files outside it.`,
    `Tools: ${tools.map((t) => t.name).join(", ")}. Commands run non-interactively with the worktree as their directory.`,
    "Work step by step: inspect the code, make the change, run the relevant checks or tests, fix what fails.",
    "Do not commit; the system commits your changes.",
    "When you are done, answer with a short summary of what you changed and why (no tool call). It becomes the commit message.",
  ].join("\n");
}

function textOf(content: readonly Anthropic.ContentBlock[]): string {
  return content
    .flatMap((b) => (b.type === "text" ? [b.text] : []))
    .join("\n")
    .trim();
}

/** What the API's answer content becomes when sent back as the assistant turn. */
function toParams(content: readonly Anthropic.ContentBlock[]): Anthropic.ContentBlockParam[] {
  return content.flatMap((b): Anthropic.ContentBlockParam[] => {
    switch (b.type) {
      case "text":
        return [{ type: "text", text: b.text }];
      case "thinking":
        return [{ type: "thinking", thinking: b.thinking, signature: b.signature }];
      case "redacted_thinking":
        return [{ type: "redacted_thinking", data: b.data }];
      case "tool_use":
        return [{ type: "tool_use", id: b.id, name: b.name, input: b.input }];
      default:
        // Server-side tool blocks are never requested by this engine.
        return [];
    }
  });
}

function describeApiError(err: unknown): string {
  if (err instanceof Anthropic.APIError) {
    const status = err.status !== undefined ? ` ${err.status}` : "";
    return `Anthropic API error${status}: ${err.message}`;
  }
  return `Anthropic API request failed: ${err instanceof Error ? err.message : String(err)}`;
}

/** What a refused call of each kind is called in the model's tool result. */
const WHAT = { command: "command", write: "file change" } as const;

export class AnthropicEngine implements AgentEngine {
  readonly name = "anthropic" as const;
  private readonly tools: readonly AgentTool[];

  constructor(private readonly options: AnthropicEngineOptions = {}) {
    this.tools = options.tools ?? defaultTools;
  }

  /**
   * Runs a tool call, first asking a person when the run's policy holds calls of its kind.
   * The wait is not a turn: turns count the model's answers, and none is requested meanwhile.
   */
  private async executeApproved(tool: AgentTool, input: unknown, toolCtx: ToolContext, ctx: EngineContext) {
    const subject = await tool.approvalSubject?.(input, toolCtx);
    if (subject) {
      const answer = await approvalFor(ctx, tool.name, subject);
      throwIfAborted(ctx.signal);
      if (answer && answer.decision !== "granted") return { output: refusalText(answer, WHAT[subject.kind]), isError: true };
    }
    return tool.execute(input, toolCtx);
  }

  async run(ctx: EngineContext): Promise<EngineResult> {
    const apiKey = ctx.anthropic?.apiKey;
    if (!apiKey) {
      throw new EngineError(
        "no_api_key",
        "The anthropic engine needs an Anthropic API key: configure one for the runner (ANTHROPIC_API_KEY) or choose another engine.",
      );
    }
    throwIfAborted(ctx.signal);

    const model = ctx.model || this.options.defaultModel || DEFAULT_MODEL;
    ctx.onModel?.(model);
    const maxTurns = ctx.maxTurns ?? this.options.defaultMaxTurns ?? DEFAULT_MAX_TURNS;
    const client = new Anthropic({
      apiKey,
      baseURL: ctx.anthropic?.baseURL ?? null,
      maxRetries: this.options.maxRetries ?? 2,
    });
    const ws = await openWorkspace(ctx.worktree);
    const toolCtx: ToolContext = { ws, starter: ctx.starter ?? plainStarter(ctx.env), signal: ctx.signal, emit: (e) => ctx.emit(e) };
    const byName = new Map(this.tools.map((t) => [t.name, t]));
    const toolDefs: Anthropic.Tool[] = this.tools.map((t) => ({
      name: t.name,
      description: t.description,
      input_schema: t.inputSchema,
    }));
    const system = systemPrompt(ws.root, this.tools);
    const start = startingConversation(ctx.prompt, ctx.resume, this.options.maxResumeChars ?? DEFAULT_MAX_RESUME_CHARS);
    const messages: Anthropic.MessageParam[] = start.messages;
    if (start.mode !== "fresh") ctx.emit({ type: "agent.context", payload: { mode: start.mode, reason: start.reason, messages: messages.length } });
    const withInbox = () => {
      for (const m of ctx.inbox?.take() ?? []) {
        ctx.emit({ type: "agent.user_message", payload: { messageId: m.id, text: m.text } });
        messages.splice(0, messages.length, ...appendUserText(messages, `A message from ${m.author} while you work:\n${m.text}`));
      }
    };

    const usage = { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
    const totals = { tokensIn: 0, tokensOut: 0, costUsd: 0, toolCalls: 0, turns: 0 };
    let lastText = "";

    for (;;) {
      throwIfAborted(ctx.signal);
      withInbox();
      ctx.onTranscript?.(messages);
      totals.turns++;

      let message: Anthropic.Message;
      try {
        const stream = client.messages.stream(
          { model, max_tokens: this.options.maxTokens ?? DEFAULT_MAX_TOKENS, system, tools: toolDefs, messages },
          { signal: ctx.signal },
        );
        message = await stream.finalMessage();
      } catch (err) {
        if (ctx.signal.aborted) throw abortError(ctx.signal);
        throw new EngineError("engine_error", describeApiError(err));
      }

      usage.input += message.usage.input_tokens;
      usage.output += message.usage.output_tokens;
      usage.cacheWrite += message.usage.cache_creation_input_tokens ?? 0;
      usage.cacheRead += message.usage.cache_read_input_tokens ?? 0;
      totals.tokensIn = usage.input + usage.cacheWrite + usage.cacheRead;
      totals.tokensOut = usage.output;
      totals.costUsd = costUsd(model, {
        inputTokens: usage.input,
        outputTokens: usage.output,
        cacheCreationInputTokens: usage.cacheWrite,
        cacheReadInputTokens: usage.cacheRead,
      });
      ctx.emit({ type: "agent.usage", payload: { tokensIn: totals.tokensIn, tokensOut: totals.tokensOut, costUsd: totals.costUsd } });

      for (const block of message.content) {
        if (block.type === "text" && block.text.trim() !== "") ctx.emit({ type: "agent.message", payload: { role: "assistant", text: block.text } });
        if (block.type === "thinking" && block.thinking.trim() !== "") ctx.emit({ type: "agent.thinking", payload: { text: block.thinking } });
      }
      const text = textOf(message.content);
      if (text !== "") lastText = text;

      if (ctx.budgetUsd != null && totals.costUsd >= ctx.budgetUsd) {
        throw new EngineError(
          "budget_exceeded",
          `run cost $${totals.costUsd.toFixed(4)} reached the budget of $${ctx.budgetUsd.toFixed(4)} after ${totals.turns} turns`,
        );
      }

      const toolUses = message.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
      messages.push({ role: "assistant", content: toParams(message.content) });
      ctx.onTranscript?.(messages);
      if (toolUses.length === 0) {
        // A message that came while the model wrote its last answer still gets an answer.
        if ((ctx.inbox?.pending() ?? 0) > 0) continue;
        return { summary: text || lastText, ...totals };
      }
      if (totals.turns >= maxTurns) {
        throw new EngineError("max_turns", `the agent was still working after ${maxTurns} turns (the limit)`);
      }

      const results: Anthropic.ToolResultBlockParam[] = [];
      for (const use of toolUses) {
        throwIfAborted(ctx.signal);
        totals.toolCalls++;
        ctx.emit({ type: "tool.call", payload: { id: use.id, name: use.name, input: use.input } });
        const tool = byName.get(use.name);
        let output: string;
        let isError: boolean;
        if (message.stop_reason === "max_tokens" && use === toolUses.at(-1)) {
          // The answer was cut off, so the last tool call's input may be incomplete.
          output = "your answer hit max_tokens and this tool call was cut off; send it again with a smaller input";
          isError = true;
        } else if (!tool) {
          output = `unknown tool ${JSON.stringify(use.name)}; available: ${this.tools.map((t) => t.name).join(", ")}`;
          isError = true;
        } else {
          ({ output, isError } = await this.executeApproved(tool, use.input, toolCtx, ctx));
        }
        ctx.emit({ type: "tool.result", payload: { id: use.id, name: use.name, output, isError } });
        results.push({ type: "tool_result", tool_use_id: use.id, content: output, ...(isError ? { is_error: true } : {}) });
      }
      messages.push({ role: "user", content: results });
      ctx.onTranscript?.(messages);
    }
  }
}
