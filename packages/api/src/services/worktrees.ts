import { promises as fs } from "node:fs";
import { dirSize } from "@agentboard/git";
import type { RunStatus } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { conflict, notFound } from "../errors.js";
import { ACTIVE_STATUSES } from "./runs.js";
import { repositoryAvailable, withRunPipelineLock } from "./merge-lock.js";
import { recordCleanup, removeRunWorktrees, SWEEP_ACTOR } from "./worktree-cleanup.js";

/**
 * The server's side of worktrees: the record runners keep (one row per worktree), an
 * admin's removal of one, and the stale sweep. How a run's worktrees and branch are removed
 * (merge, abort, these) is in worktree-cleanup.ts.
 */

export interface ListWorktreesInput {
  workspaceId: string;
  /** Also list worktrees that were removed (kept for the record). */
  includeRemoved?: boolean;
}

/** Sizes are measured for this many live worktrees per listing, each for at most this long. */
const SIZE_MEASURE_LIMIT = 50;
const SIZE_MEASURE_TIMEOUT_MS = 2_000;
const SIZE_MEASURE_CONCURRENCY = 4;

export type WorktreeStatus = "active" | "idle" | "missing" | "removed";

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      () => {
        clearTimeout(timer);
        resolve(null);
      },
    );
  });
}

/**
 * The record of every worktree runners created in a workspace, newest first, with its
 * state and disk usage. Live worktrees on this machine are measured (bounded in number and
 * time: a huge tree reports its last recorded size instead of stalling the page).
 */
export async function listWorktrees(deps: Deps, input: ListWorktreesInput) {
  const rows = await deps.db.prisma.worktree.findMany({
    where: {
      project: { workspaceId: input.workspaceId },
      ...(input.includeRemoved ? {} : { removedAt: null }),
    },
    orderBy: { createdAt: "desc" },
    take: 1000,
    include: {
      run: { select: { id: true, status: true, cardId: true, card: { select: { title: true } }, runner: { select: { id: true, name: true } } } },
      project: { select: { id: true, name: true } },
    },
  });
  const present = await Promise.all(rows.map((r) => (r.removedAt ? Promise.resolve(false) : exists(r.path))));
  const measured = new Map<string, number>();
  const toMeasure = rows.filter((_r, i) => present[i]).slice(0, SIZE_MEASURE_LIMIT);
  for (let i = 0; i < toMeasure.length; i += SIZE_MEASURE_CONCURRENCY) {
    await Promise.all(
      toMeasure.slice(i, i + SIZE_MEASURE_CONCURRENCY).map(async (r) => {
        const size = await withTimeout(dirSize(r.path), SIZE_MEASURE_TIMEOUT_MS);
        if (size !== null) measured.set(r.id, size);
      }),
    );
  }
  return rows.map((r, i) => {
    const status: WorktreeStatus = r.removedAt
      ? "removed"
      : !present[i]
        ? "missing"
        : (ACTIVE_STATUSES as readonly RunStatus[]).includes(r.run.status)
          ? "active"
          : "idle";
    const size = measured.get(r.id);
    return { ...r, status, sizeBytes: size !== undefined ? BigInt(size) : r.sizeBytes, sizeMeasured: size !== undefined };
  });
}

// ── worktree.remove ────────────────────────────────────────────────────────────────────

export async function runIdOfWorktree(deps: Deps, worktreeId: string): Promise<string> {
  const row = await deps.db.prisma.worktree.findUnique({ where: { id: worktreeId }, select: { runId: true } });
  if (!row) throw notFound("worktree", worktreeId);
  return row.runId;
}

/**
 * An admin frees a finished run's worktree. The branch is kept: a succeeded run can still
 * be merged from its branch alone. Refused while the run is active — its agent is working
 * in that directory.
 */
export async function removeWorktreeById(deps: Deps, actor: string, worktreeId: string) {
  const row = await deps.db.prisma.worktree.findUnique({ where: { id: worktreeId }, include: { run: true, project: true } });
  if (!row) throw notFound("worktree", worktreeId);
  if (row.removedAt) return { worktree: row, report: null };
  if ((ACTIVE_STATUSES as readonly RunStatus[]).includes(row.run.status)) {
    throw conflict("RUN_ACTIVE", `run ${row.runId} is ${row.run.status}; abort it first`, { status: row.run.status });
  }
  if (!(await repositoryAvailable(row.project.repoPath))) {
    throw conflict("REPOSITORY_UNAVAILABLE", `the repository of project ${row.project.name} is not on this server`, { projectId: row.projectId });
  }
  // Under the pipeline lock: a merge of this run may be cleaning up the same directory.
  const report = await withRunPipelineLock(row.project.repoPath, (heldLock) =>
    removeRunWorktrees(deps, row.run, row.project.repoPath, { deleteBranch: false, onlyWorktreeId: worktreeId, ...(heldLock ? { heldLock } : {}) }),
  );
  const outcome = report.worktrees[0];
  if (outcome?.outcome === "refused") throw conflict("WORKTREE_NOT_OURS", `${row.path} is not a worktree of the project's repository`, { path: row.path });
  if (outcome?.outcome === "failed") throw new Error(outcome.error ?? "worktree removal failed");
  await recordCleanup(deps, row.runId, actor, "worktree.removed", { worktreeId, ...report });
  const worktree = await deps.db.prisma.worktree.findUniqueOrThrow({ where: { id: worktreeId } });
  return { worktree, report };
}

// ── The stale sweep ────────────────────────────────────────────────────────────────────

export interface SweepOptions {
  /** A finished run's worktree goes once the run finished this long ago. */
  olderThanMs: number;
  now?: Date;
  /** Worktrees looked at per call; the next call continues. */
  limit?: number;
}

export interface SweepReport {
  removed: string[];
  gone: string[];
  skipped: string[];
  failed: { worktreeId: string; error: string }[];
}

/**
 * Removes the worktrees of runs that finished (any terminal status) more than
 * `olderThanMs` ago. Branches stay — a succeeded run can still be merged — and so do
 * worktrees of queued, claimed or running runs, whatever their age. Meant to be called
 * periodically by the server; safe to run on several replicas at once (removal is
 * idempotent and rows are only marked once).
 */
export async function sweepStaleWorktrees(deps: Deps, opts: SweepOptions): Promise<SweepReport> {
  const now = opts.now ?? new Date();
  const cutoff = new Date(now.getTime() - opts.olderThanMs);
  const rows = await deps.db.prisma.worktree.findMany({
    where: {
      removedAt: null,
      createdAt: { lt: cutoff },
      run: { status: { in: ["succeeded", "failed", "cancelled", "merged", "aborted"] } },
    },
    orderBy: { createdAt: "asc" },
    take: opts.limit ?? 200,
    include: { run: true, project: { select: { repoPath: true } } },
  });
  const report: SweepReport = { removed: [], gone: [], skipped: [], failed: [] };
  for (const row of rows) {
    if ((row.run.finishedAt ?? row.createdAt) >= cutoff) continue;
    try {
      const r = await withRunPipelineLock(row.project.repoPath, (heldLock) =>
        removeRunWorktrees(deps, row.run, row.project.repoPath, { deleteBranch: false, onlyWorktreeId: row.id, ...(heldLock ? { heldLock } : {}) }),
      );
      const o = r.worktrees[0];
      if (!o || o.outcome === "skipped") report.skipped.push(row.id);
      else if (o.outcome === "removed") report.removed.push(row.id);
      else if (o.outcome === "gone") report.gone.push(row.id);
      else report.failed.push({ worktreeId: row.id, error: o.error ?? o.outcome });
      if (o && (o.outcome === "removed" || o.outcome === "gone")) {
        await recordCleanup(deps, row.runId, SWEEP_ACTOR, "worktree.removed", { ...r, worktreeId: row.id });
      }
    } catch (err) {
      report.failed.push({ worktreeId: row.id, error: (err instanceof Error ? err.message : String(err)).slice(0, 2000) });
    }
  }
  return report;
}

/**
 * A runner removed a worktree on its own machine (its stale sweep): the record follows,
 * so the board stops showing it as live. Only rows of that run with that exact path.
 */
export async function markWorktreeRemoved(deps: Deps, actor: string, input: { runId: string; path: string }) {
  const rows = await deps.db.prisma.worktree.findMany({
    where: { runId: input.runId, path: input.path, removedAt: null },
    select: { id: true, branch: true },
  });
  if (rows.length === 0) return { marked: 0 };
  await deps.db.prisma.worktree.updateMany({ where: { id: { in: rows.map((r) => r.id) } }, data: { removedAt: new Date() } });
  await recordCleanup(deps, input.runId, actor, "worktree.removed", {
    repository: "unavailable",
    worktrees: rows.map((r) => ({ worktreeId: r.id, path: input.path, outcome: "removed" as const })),
    branch: { name: rows[0]!.branch, deleted: false, kept: "requested" },
    pending: false,
  });
  return { marked: rows.length };
}
