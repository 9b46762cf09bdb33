/**
 * A run's second step: the agent. The run's engine works in the checkout, inside the run's
 * sandbox, under the run's timeout (paused while it waits for an approval); its events are
 * streamed as they come. A resolve-conflicts run must leave no conflict markers.
 */
import path from "node:path";
import { formatDuration } from "../duration.js";
import { agentSpecOf } from "../engines/acp/spec.js";
import { createEngine } from "../engines/index.js";
import type { EngineEvent, EngineResult } from "../engines/types.js";
import { unresolvedConflicts } from "../output/collect.js";
import type { PreparedWorktree } from "../workspace/prepare-worktree.js";
import type { RunContext } from "./context.js";
import { PausableTimer } from "./pausable-timer.js";
import { RunFailure } from "./run-failure.js";

export async function runAgent(ctx: RunContext, wt: PreparedWorktree): Promise<EngineResult> {
  const { run } = ctx.claim;
  const result = await runEngine(ctx, wt);
  if (ctx.conflicts.length > 0) {
    const left = await unresolvedConflicts(ctx.sandboxOf().starter("collect"), ctx.conflicts, ctx.leaseGone.signal);
    if (left.length > 0) throw new RunFailure("conflicts_unresolved", `conflict markers remain in ${left.length} file(s): ${left.slice(0, 20).join(", ")}`);
    ctx.runLog.note(`every conflict resolved: the merge of ${run.baseBranch} is committed`);
  }
  const { turns, toolCalls, tokensIn, tokensOut, costUsd } = result;
  ctx.runLog.note(`agent finished: ${turns} turns, ${toolCalls} tool calls, ${tokensIn}+${tokensOut} tokens, $${costUsd.toFixed(4)}`);
  return result;
}

async function runEngine(ctx: RunContext, wt: PreparedWorktree): Promise<EngineResult> {
  const { run } = ctx.claim;
  const { config } = ctx.deps;
  const engine = createEngine(run.engine, {
    anthropic: { maxResumeChars: config.resumeMaxChars },
    command: { graceMs: config.killGraceMs },
    acp: { graceMs: config.killGraceMs },
    // Its sessions are kept in the runner's state directory, for a follow-up on this runner.
    claudeCode: { bin: config.claudeCodeBin, graceMs: config.killGraceMs, sessionsDir: path.join(config.stateDir, "claude-sessions") },
  });
  const timeoutMs = run.timeoutMs ?? config.agentTimeoutMs;
  const timer = new PausableTimer(timeoutMs, () => ctx.stop("timeout"));
  ctx.agentTimer = timer;
  ctx.engineStarted = true;
  ctx.deps.observer.onEngineStart?.(run.id, Date.now());
  const model = run.model ?? config.model;
  ctx.runLog.note(`agent started (${engine.name}${model ? `, ${model}` : ""}, timeout ${formatDuration(timeoutMs)})`);
  const resume = ctx.resume;
  try {
    return await engine.run({
      worktree: wt.path,
      prompt: run.prompt,
      model: run.model ?? config.model ?? null,
      command: run.command,
      agent: agentSpecOf(run.agent),
      maxTurns: run.maxTurns,
      signal: ctx.agentStop.signal,
      env: ctx.sandboxOf().environment("agent"),
      starter: ctx.sandboxOf().starter("agent"),
      anthropic: { apiKey: config.anthropicApiKey, baseURL: config.anthropicBaseUrl },
      budgetUsd: run.budgetUsd,
      approval: run.approval,
      requestApproval: (ask) => ctx.approvals.ask(ask),
      resume: resume && {
        transcript: resume.transcript?.engine === run.engine && Array.isArray(resume.transcript.messages) ? resume.transcript.messages : null,
        sessionId: resume.sessionId,
        seed: resume.seed ?? "",
      },
      onTranscript: (messages) => {
        ctx.transcript = messages;
      },
      onSession: (id) => {
        ctx.sessionId = id;
      },
      onModel: (model) => {
        ctx.modelUsed = model;
      },
      inbox: ctx.inbox,
      emit: (e) => onEngineEvent(ctx, e),
    });
  } finally {
    timer.clear();
  }
}

function onEngineEvent(ctx: RunContext, e: EngineEvent): void {
  if (ctx.leaseGone.signal.aborted) return;
  if (e.type === "agent.usage") Object.assign(ctx.usage, { tokensIn: e.payload.tokensIn, tokensOut: e.payload.tokensOut, costUsd: e.payload.costUsd });
  if (e.type === "tool.call") ctx.usage.toolCalls++;
  if (e.type === "agent.message" && e.payload.role === "assistant") ctx.lastSummary = e.payload.text;
  ctx.runLog.engineEvent(e);
  ctx.emit(e.type, e.payload);
}
