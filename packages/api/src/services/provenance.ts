import type { Deps } from "./deps.js";
import { notFound } from "../errors.js";

/** Event types that record a decision about the run or its Definition of Done. */
export const DECISION_EVENTS = [
  "run.queued",
  "run.claimed",
  "run.started",
  "run.succeeded",
  "run.failed",
  "run.cancel_requested",
  "run.cancelled",
  "run.requeued",
  "run.reverified",
  "run.merge_conflict",
  "run.merged",
  "run.aborted",
  "run.cleaned",
  "worktree.removed",
  "dod.evidence",
  "dod.validated",
  "dod.rejected",
];

/**
 * Where a run's result came from and who decided what about it: the exact prompt, engine
 * and model, a hash of the diff, cost and tokens, the people (or runners) behind every
 * transition, and each piece of evidence with its validation or rejection and reason.
 */
export async function runProvenance(deps: Deps, runId: string) {
  const run = await deps.db.prisma.run.findUnique({
    where: { id: runId },
    include: {
      workflow: { select: { id: true, name: true } },
      runner: { select: { id: true, name: true, hostname: true } },
      card: { select: { id: true, title: true } },
      project: { select: { id: true, name: true, baseBranch: true } },
      evidence: {
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        include: { item: { select: { key: true, title: true } } },
      },
    },
  });
  if (!run) throw notFound("run", runId);
  const decisions = await deps.db.prisma.runEvent.findMany({
    where: { runId, type: { in: DECISION_EVENTS } },
    orderBy: { seq: "asc" },
    select: { seq: true, type: true, actor: true, payload: true, createdAt: true },
  });
  return {
    runId: run.id,
    status: run.status,
    card: run.card,
    project: run.project,
    workflow: run.workflow,
    prompt: run.prompt,
    engine: run.engine,
    model: run.model,
    command: run.command,
    branch: run.branch,
    baseBranch: run.baseBranch,
    diffHash: run.diffHash,
    diffStat: run.diffStat,
    cost: { usd: run.costUsd, tokensIn: run.tokensIn, tokensOut: run.tokensOut, toolCalls: run.toolCalls, durationMs: run.durationMs },
    runner: run.runner,
    attempt: run.attempt,
    createdBy: run.createdBy,
    merge: run.mergedBy ? { by: run.mergedBy, at: run.mergedAt, commit: run.mergeCommit } : null,
    /** Who closed the run other than by merging (abort, cancel) and why. */
    closed: run.closedBy ? { by: run.closedBy, reason: run.closedReason, status: run.status } : null,
    cancelRequested: run.cancelRequestedAt ? { by: run.cancelRequestedBy, at: run.cancelRequestedAt } : null,
    error: run.error ? { message: run.error, reason: run.errorReason } : null,
    timestamps: {
      createdAt: run.createdAt,
      claimedAt: run.claimedAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      mergedAt: run.mergedAt,
    },
    evidence: run.evidence.map((e) => ({
      id: e.id,
      itemKey: e.item.key,
      itemTitle: e.item.title,
      kind: e.kind,
      createdBy: e.createdBy,
      createdAt: e.createdAt,
      validated: e.validatedAt ? { by: e.validatedBy, at: e.validatedAt } : null,
      rejected: e.rejectedAt ? { by: e.rejectedBy, at: e.rejectedAt, reason: e.rejectReason } : null,
      ...(e.kind === "check" ? { command: e.command, exitCode: e.exitCode, durationMs: e.durationMs } : {}),
    })),
    decisions,
  };
}
