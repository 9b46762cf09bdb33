/**
 * The contract between the runner and an agent engine.
 *
 * An engine works inside one run's worktree, reports everything it does as events, and
 * returns its metrics. It must stop promptly when `signal` aborts (cancel, timeout, lost
 * lease) and leave no process behind.
 */

import type { ProcessStarter } from "@agentboard/sandbox";

export type EngineName = "anthropic" | "claude_code" | "command" | "acp";

/** How a runner starts an ACP agent: the run's copy of its agent profile. */
export interface AgentSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  /** How the agent's permission requests are answered. */
  permissions: "allow" | "deny";
}

/** One step of an agent, streamed to the server as a run event. */
export type EngineEvent =
  | { type: "agent.message"; payload: { role: "assistant" | "user"; text: string } }
  | { type: "agent.thinking"; payload: { text: string } }
  | { type: "tool.call"; payload: { id: string; name: string; input: unknown } }
  | { type: "tool.result"; payload: { id: string; name: string; output: string; isError: boolean } }
  | { type: "command.output"; payload: { stream: "stdout" | "stderr"; text: string } }
  | { type: "agent.usage"; payload: { tokensIn: number; tokensOut: number; costUsd: number } }
  | { type: "agent.plan"; payload: { entries: { content: string; priority: string; status: string }[] } }
  | { type: "agent.permission"; payload: { toolCallId: string; title: string; decision: "allowed" | "denied" | "cancelled"; option: string | null } }
  /** How a follow-up's conversation began: the earlier one resumed, or a new one seeded with the thread's summary (and why). */
  | { type: "agent.context"; payload: { mode: "resumed" | "seeded"; reason: string | null; messages?: number; sessionId?: string } }
  /** A person's message handed to the agent at its turn (`run.sendMessage`). */
  | { type: "agent.user_message"; payload: { messageId: string; text: string } };

/**
 * What a follow-up continues from (the server's `run.resumeContext`): the parent's
 * conversation as its engine kept it, Claude Code's session id, and a summary of the
 * thread that seeds a new conversation when the old one cannot be resumed.
 */
export interface ResumeState {
  /** The parent's transcript, when it was made by this engine. */
  transcript: unknown[] | null;
  sessionId: string | null;
  seed: string;
}

/** A message a person sent to the running agent. */
export interface InboxMessage {
  id: string;
  text: string;
  author: string;
}

/** Messages sent to the running agent, taken at its next turn. */
export interface MessageInbox {
  /** The messages not yet taken, oldest first; each is handed out once. */
  take(): InboxMessage[];
  /** How many are waiting. */
  pending(): number;
}

/** Which tool calls wait for a person (the run's workflow decides). */
export type ApprovalPolicy = "none" | "commands" | "writes";

/** What a tool call would do, exactly as the person approving it sees it. */
export type ApprovalSubject =
  | { kind: "command"; command: string; truncated?: boolean }
  | { kind: "write"; path: string; action: "create" | "overwrite" | "edit"; preview: string; truncated?: boolean };

export interface ApprovalAsk {
  /** The tool that wants to act: `run_command`, `write_file`, `edit_file`, `command`. */
  tool: string;
  subject: ApprovalSubject;
}

/** How a request ended: approved, denied by a person, or unanswered in time (a denial too). */
export interface ApprovalAnswer {
  decision: "granted" | "denied" | "expired";
  /** Who answered (`member:alice`); null when it expired. */
  by: string | null;
  note: string | null;
  /** How long the request waited for an answer before it expired. */
  timeoutMs: number;
}

/** Whether the policy makes a tool call of this kind wait for a person. */
export function needsApproval(policy: ApprovalPolicy | undefined, kind: ApprovalSubject["kind"]): boolean {
  if (policy === "writes") return true;
  return policy === "commands" && kind === "command";
}

export interface EngineContext {
  /** Absolute path of the run's worktree; every file the agent touches must be inside it. */
  worktree: string;
  prompt: string;
  model?: string | null;
  /** Shell command for the `command` engine. */
  command?: string | null;
  maxTurns?: number | null;
  /** Aborted on cancel, timeout or a lost lease. */
  signal: AbortSignal;
  /** Environment for child processes when no `starter` is given (an engine run on its own, in tests). */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Starts every process of the agent (its commands, its CLI): in the run's sandbox, with
   * the agent phase's network and the sandbox's environment. The runner always sets it;
   * without it, processes are plain process groups with `env`.
   */
  starter?: ProcessStarter;
  /** Credentials and endpoint for model APIs (never passed to child processes). */
  anthropic?: { apiKey?: string; baseURL?: string };
  /** For the `acp` engine: the agent to start. */
  agent?: AgentSpec | null;
  /** Stop when the run's cost reaches this many USD. */
  budgetUsd?: number | null;
  /** The run's approval policy; "none" when absent. */
  approval?: ApprovalPolicy;
  /**
   * Asks a person before a tool call the policy names and resolves with the answer; rejects
   * (with the abort's EngineError) when the run is stopped meanwhile. Required unless the
   * policy is "none".
   */
  requestApproval?(ask: ApprovalAsk): Promise<ApprovalAnswer>;
  /** A follow-up: the conversation it continues. */
  resume?: ResumeState | null;
  /** Called with the whole conversation after each turn (kept for a follow-up). */
  onTranscript?(messages: unknown[]): void;
  /** Called when the engine learns its session id (Claude Code). */
  onSession?(sessionId: string): void;
  /** Called with the model the engine actually uses (the run's, else its default), for the run's record. */
  onModel?(model: string): void;
  /** Messages people send while the agent works. */
  inbox?: MessageInbox;
  emit(event: EngineEvent): void;
}

export interface EngineResult {
  /** The agent's final words; used as the commit message and the run summary. */
  summary: string;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  toolCalls: number;
  turns: number;
}

export interface AgentEngine {
  readonly name: EngineName;
  run(ctx: EngineContext): Promise<EngineResult>;
}

/** Raised by an engine for a failure the runner reports with a machine-readable reason. */
export class EngineError extends Error {
  constructor(
    readonly reason: "engine_error" | "no_api_key" | "max_turns" | "budget_exceeded" | "cancelled" | "timeout" | "approval_denied" | "approval_unsupported",
    message: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
}
