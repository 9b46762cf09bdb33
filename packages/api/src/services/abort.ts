import type { PublicRun as Run, RunStatus } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { conflict, notFound } from "../errors.js";
import { publishRunChange } from "../infra/notifier.js";
import { transition, type NewEvent } from "./run-events.js";
import { ACTIVE_STATUSES } from "./runs.js";
import { withRunPipelineLock } from "./merge-lock.js";
import { recordCleanup, removeRunWorktrees, type CleanupReport } from "./worktree-cleanup.js";

export const ABORTABLE_STATUSES = ["queued", "claimed", "running", "succeeded", "failed", "cancelled"] as const satisfies RunStatus[];

export interface AbortInput {
  runId: string;
  reason?: string;
}

/** Cards whose work was thrown away go back to be picked up again, unless another run carries them. */
const LIVE_STATUSES = ["queued", "claimed", "running", "succeeded"] as const satisfies RunStatus[];

async function tryAbort(deps: Deps, actor: string, seen: Run, reason: string | null): Promise<Run | null> {
  const now = new Date();
  const active = (ACTIVE_STATUSES as readonly RunStatus[]).includes(seen.status);
  const events: NewEvent[] = [];
  // The runner follows its run's events for this type: it stops the agent at once rather
  // than at its next heartbeat (which from now on answers LEASE_LOST anyway).
  if (active && !seen.cancelRequestedAt) events.push({ type: "run.cancel_requested", actor, payload: { reason, by: "abort" } });
  events.push({ type: "run.aborted", actor, payload: { reason, from: seen.status, runnerId: seen.runnerId } });
  return deps.db.prisma.$transaction(async (tx) => {
    const run = await transition(
      tx,
      seen.id,
      // Conditional on the status we decided on: a run that moved meanwhile is looked at again.
      { status: seen.status },
      {
        status: "aborted",
        closedBy: actor,
        closedReason: reason,
        finishedAt: seen.finishedAt ?? now,
        // Fencing: every runner call requires an active status and the lease token, so
        // from this commit on the runner's start, heartbeat, events, checks and complete
        // are refused (LEASE_LOST) — whether or not that runner is still alive.
        leaseExpiresAt: null,
        ...(active && !seen.cancelRequestedAt ? { cancelRequestedAt: now, cancelRequestedBy: actor } : {}),
      },
      events,
    );
    if (!run) return null;
    const others = await tx.run.count({ where: { cardId: run.cardId, id: { not: run.id }, status: { in: [...LIVE_STATUSES] } } });
    if (others === 0) await tx.card.updateMany({ where: { id: run.cardId, column: { in: ["in_progress", "in_review"] } }, data: { column: "todo" } });
    return run;
  });
}

/**
 * Abort: the run's work is thrown away. The database goes first — status `aborted`, the
 * lease fenced, a cancel for a live runner — and only then are the worktrees removed (with
 * force) and the branch deleted. In that order a runner can no longer write anything
 * while its directory disappears, and if the git cleanup fails the run is still aborted
 * and the worktree is still listed as live, for `worktree.remove` or the sweep to retry.
 * The other order could leave a running run whose worktree is gone.
 *
 * Works without the runner: nothing here waits for it. A succeeded run is aborted under
 * the repository's pipeline lock, so a merge in progress either finishes first (and the
 * abort answers NOT_ABORTABLE) or never starts.
 */
export async function abortRun(deps: Deps, actor: string, input: AbortInput) {
  const reason = input.reason ?? null;
  let aborted: Run | null = null;
  let repoPath = "";
  for (let attempt = 0; attempt < 5 && !aborted; attempt++) {
    const seen = await deps.db.prisma.run.findUnique({ where: { id: input.runId }, include: { project: { select: { repoPath: true } } } });
    if (!seen) throw notFound("run", input.runId);
    if (!(ABORTABLE_STATUSES as readonly RunStatus[]).includes(seen.status)) {
      throw conflict("NOT_ABORTABLE", `run ${seen.id} is ${seen.status} and cannot be aborted`, { status: seen.status });
    }
    repoPath = seen.project.repoPath;
    const { project: _p, ...row } = seen;
    aborted =
      seen.status === "succeeded" ? await withRunPipelineLock(repoPath, () => tryAbort(deps, actor, row, reason)) : await tryAbort(deps, actor, row, reason);
  }
  if (!aborted) throw conflict("INVALID_STATE", `run ${input.runId} kept changing; retry`, { retryable: true });
  await publishRunChange(deps.notifier, aborted.id, aborted.boardId);

  const run = aborted;
  const cleanup: CleanupReport = await withRunPipelineLock(repoPath, (heldLock) =>
    removeRunWorktrees(deps, run, repoPath, { deleteBranch: true, ...(heldLock ? { heldLock } : {}) }),
  );
  // The runner may still be finishing its last steps in the worktree (the cancel reaches it
  // as this runs): what could not be removed yet is left to finishPendingCleanups.
  await recordCleanup(deps, run.id, actor, "run.cleaned", cleanup, { retry: true });
  return { run, cleanup };
}
