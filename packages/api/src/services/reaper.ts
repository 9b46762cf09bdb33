import type { Deps } from "./deps.js";
import { publishRunChange, topics } from "../infra/notifier.js";
import { transition } from "./run-events.js";
import { releaseCardAfterRun } from "./card-column.js";

export interface ReapResult {
  requeued: string[];
  failed: string[];
  cancelled: string[];
}

const REAPER = "system:reaper";

/**
 * Settles runs whose lease ran out (by database time): a pending cancel becomes
 * cancelled; a claimed run that never started goes back to the queue (or fails after its
 * last attempt); a running run fails with `runner_lost` — agents have side effects, so it
 * is not retried behind anyone's back. Each change is conditional on the lease token the
 * reaper saw, so a runner heartbeating at the same moment wins cleanly, and several
 * server replicas may reap at once.
 */
export async function reapExpiredLeases(deps: Deps, limit = 100): Promise<ReapResult> {
  const expired = await deps.db.sql.expiredLeases(limit);
  const result: ReapResult = { requeued: [], failed: [], cancelled: [] };
  const now = new Date();
  for (const lease of expired) {
    const fence = { leaseToken: lease.leaseToken, status: lease.status };
    const run = await deps.db.prisma.$transaction(async (tx) => {
      if (lease.cancelRequested) {
        const r = await transition(tx, lease.id, fence, { status: "cancelled", finishedAt: now, leaseExpiresAt: null, errorReason: "lease_expired" }, [
          { type: "run.cancelled", actor: REAPER, payload: { reason: "lease expired with a cancel pending" } },
        ]);
        if (r) {
          result.cancelled.push(r.id);
          await releaseCardAfterRun(tx, r);
        }
        return r;
      }
      const current = await tx.run.findUnique({ where: { id: lease.id }, select: { attempt: true, maxAttempts: true } });
      if (lease.status === "claimed" && current && current.attempt < current.maxAttempts) {
        const r = await transition(
          tx,
          lease.id,
          fence,
          { status: "queued", runner: { disconnect: true }, leaseToken: null, leaseExpiresAt: null, heartbeatAt: null, claimedAt: null },
          [{ type: "run.requeued", actor: REAPER, payload: { reason: "claim expired before start", attempt: current.attempt } }],
        );
        if (r) result.requeued.push(r.id);
        return r;
      }
      const r = await transition(
        tx,
        lease.id,
        fence,
        { status: "failed", finishedAt: now, leaseExpiresAt: null, errorReason: "runner_lost", error: "the runner stopped heartbeating and its lease expired" },
        [{ type: "run.failed", actor: REAPER, payload: { reason: "runner_lost" } }],
      );
      if (r) {
        result.failed.push(r.id);
        await releaseCardAfterRun(tx, r);
      }
      return r;
    });
    if (run) {
      await publishRunChange(deps.notifier, run.id, run.boardId);
      if (run.status === "queued") await deps.notifier.publish(topics.queued(run.workspaceId));
    }
  }
  return result;
}
