/**
 * The contract between the runner and an agent engine.
 *
 * An engine works inside one run's worktree, reports everything it does as events, and
 * returns its metrics. It must stop promptly when `signal` aborts (cancel, timeout, lost
 * lease) and leave no process behind.
 */

import type { ProcessStarter } from "@agentboard/sandbox";

export type EngineName = "anthropic" | "claude_code" | "command";

/** One step of an agent, streamed to the server as a run event. */
export type EngineEvent =
  | { type: "agent.message"; payload: { role: "assistant" | "user"; text: string } }
  | { type: "agent.thinking"; payload: { text: string } }
  | { type: "tool.call"; payload: { id: string; name: string; input: unknown } }
  | { type: "tool.result"; payload: { id: string; name: string; output: string; isError: boolean } }
  | { type: "command.output"; payload: { stream: "stdout" | "stderr"; text: string } }
  | { type: "agent.usage"; payload: { tokensIn: number; tokensOut: number; costUsd: number } };

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
  /** Stop when the run's cost reaches this many USD. */
  budgetUsd?: number | null;
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
    readonly reason: "engine_error" | "no_api_key" | "max_turns" | "budget_exceeded" | "cancelled" | "timeout",
    message: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
}
