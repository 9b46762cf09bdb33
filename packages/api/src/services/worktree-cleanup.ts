import { promises as fs } from "node:fs";
import path from "node:path";
import { deleteBranch, isRunCloneOf, pruneWorktrees, listGitWorktrees, removeWorktree, type RepositoryLock } from "@agentboard/git";
import type { Prisma, Run } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { publishRunChange } from "../infra/notifier.js";
import { transition, type NewEvent } from "./run-events.js";
import { repositoryAvailable, withRunPipelineLock } from "./merge-lock.js";

/**
 * Removing a run's worktrees and branch (merge, abort, an admin's `worktree.remove`, the
 * sweeps). Only two kinds of path are ever removed, and only after git confirms it is a
 * linked worktree of the run's own repository (or it is the run's private clone of it, the
 * runner's sandboxed checkout): a path a runner recorded for this run, and
 * a worktree that has the run's branch (a name the server generated) checked out. A path
 * from a request is never used.
 *
 * A step can fail because something else still holds what it removes — a process left in
 * the worktree, a git command of the runner's last steps holding the branch's ref lock, a
 * worktree someone locked. Each step is tried a few times over about a second (such holds
 * are usually that short); what is still left is reported with git's reason, and a merge or
 * abort marks the run (`cleanupRetryAt`) so that `finishPendingCleanups` completes the job.
 */

export type WorktreeOutcome = "removed" | "gone" | "refused" | "failed" | "skipped";

export interface CleanupReport {
  /** "unavailable": the repository is not on this machine (a remote runner's); nothing was touched. */
  repository: "available" | "unavailable";
  worktrees: { worktreeId: string | null; path: string; outcome: WorktreeOutcome; error?: string }[];
  branch: {
    name: string;
    deleted: boolean;
    /**
     * Why the branch is still there (or was not there): kept as asked, repository not here,
     * already gone, still checked out in `checkedOutAt` (its worktree could not be
     * removed), or deleting it failed (`error`).
     */
    kept?: "requested" | "unavailable" | "missing" | "checked-out" | "failed";
    checkedOutAt?: string;
    error?: string;
  };
  /** Something asked for is left undone; for a merge or abort, the server's sweep tries again. */
  pending: boolean;
}

/** Tries of a step that failed, and the pauses between them. */
const STEP_RETRY_DELAYS_MS = [150, 600];
/** After a merge or abort left something: the sweep's first try, then the pause between tries. */
export const CLEANUP_FIRST_RETRY_MS = 30_000;
export const CLEANUP_RETRY_EVERY_MS = 10 * 60_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function retried<T>(step: () => Promise<T>): Promise<T> {
  for (const delay of STEP_RETRY_DELAYS_MS) {
    try {
      return await step();
    } catch {
      await sleep(delay);
    }
  }
  return step();
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

const realOrResolved = (p: string) => fs.realpath(p).catch(() => path.resolve(p));

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 2000);
}

type RunForCleanup = Pick<Run, "id" | "branch" | "baseBranch" | "worktreePath">;

/**
 * Removes (with force) every worktree of the run that git confirms is a linked worktree of
 * `repoPath`, marks their rows removed, and deletes the run's branch when asked. Never
 * throws for a git failure: the outcome of each step is reported, and a row whose
 * directory could not be removed stays live so it can be retried.
 */
export async function removeRunWorktrees(
  deps: Deps,
  run: RunForCleanup,
  repoPath: string,
  /** heldLock: the repository's lock, held by the caller: the repository is there (its lock is in it). */
  opts: { deleteBranch: boolean; onlyWorktreeId?: string; heldLock?: RepositoryLock },
): Promise<CleanupReport> {
  const rows = await deps.db.prisma.worktree.findMany({
    where: { runId: run.id, removedAt: null, ...(opts.onlyWorktreeId ? { id: opts.onlyWorktreeId } : {}) },
  });
  const report: CleanupReport = { repository: "available", worktrees: [], branch: { name: run.branch, deleted: false }, pending: false };
  const locked = opts.heldLock?.held === true && opts.heldLock.repoPath === repoPath;
  if (!locked && !(await repositoryAvailable(repoPath))) {
    report.repository = "unavailable";
    report.worktrees = rows.map((r) => ({ worktreeId: r.id, path: r.path, outcome: "skipped" }));
    report.branch.kept = "unavailable";
    return report;
  }

  const registered = await listGitWorktrees(repoPath);
  const mainPath = registered[0] ? await realOrResolved(registered[0].path) : null;
  const linked = new Map<string, string>();
  for (const w of registered.slice(1)) {
    if (!w.bare) linked.set(await realOrResolved(w.path), w.path);
  }

  // Targets keyed by real path, so the same directory recorded twice is removed once.
  const targets = new Map<string, { path: string; ids: string[] }>();
  const add = async (p: string, id: string | null) => {
    const key = await realOrResolved(p);
    const t = targets.get(key) ?? { path: p, ids: [] };
    if (id) t.ids.push(id);
    targets.set(key, t);
  };
  for (const r of rows) await add(r.path, r.id);
  if (!opts.onlyWorktreeId) {
    if (run.worktreePath) await add(run.worktreePath, null);
    // A worktree the runner made but never recorded (it died between creating and start).
    for (const w of registered.slice(1)) if (w.branch === run.branch) await add(w.path, null);
  }

  const now = new Date();
  for (const [key, t] of targets) {
    const gitPath = key === mainPath ? undefined : linked.get(key);
    let outcome: WorktreeOutcome;
    let error: string | undefined;
    if (gitPath !== undefined) {
      try {
        await retried(() => removeWorktree({ repoPath, dir: gitPath, deleteBranch: false }));
        outcome = "removed";
      } catch (err) {
        outcome = "failed";
        error = errorText(err);
      }
    } else if (!(await exists(t.path))) {
      outcome = "gone";
    } else if (await isRunCloneOf(t.path, repoPath, run.id)) {
      try {
        await retried(() => fs.rm(t.path, { recursive: true, force: true }));
        outcome = "removed";
      } catch (err) {
        outcome = "failed";
        error = errorText(err);
      }
    } else {
      // Something is there, but git does not know it as a worktree of this repository:
      // it is not ours to delete.
      outcome = "refused";
      error = "not a linked worktree of the project's repository; left untouched";
    }
    if ((outcome === "removed" || outcome === "gone") && t.ids.length > 0) {
      await deps.db.prisma.worktree.updateMany({ where: { id: { in: t.ids }, removedAt: null }, data: { removedAt: now } });
    }
    if (outcome === "failed") report.pending = true;
    if (t.ids.length === 0) report.worktrees.push({ worktreeId: null, path: t.path, outcome, ...(error ? { error } : {}) });
    for (const id of t.ids) report.worktrees.push({ worktreeId: id, path: t.path, outcome, ...(error ? { error } : {}) });
  }

  if (!opts.deleteBranch) {
    report.branch.kept = "requested";
  } else if (run.branch === "" || run.branch === run.baseBranch) {
    report.branch.kept = "missing";
  } else {
    await deleteRunBranch(repoPath, run.branch, report);
  }
  return report;
}

async function deleteRunBranch(repoPath: string, branch: string, report: CleanupReport): Promise<void> {
  // A registration whose directory is gone still counts as a checkout for `git branch -D`.
  await pruneWorktrees(repoPath).catch(() => undefined);
  const holder = (await listGitWorktrees(repoPath).catch(() => [])).find((w) => w.branch === branch && !w.bare);
  if (holder) {
    report.branch.kept = "checked-out";
    report.branch.checkedOutAt = holder.path;
    report.pending = true;
    return;
  }
  try {
    report.branch.deleted = await retried(() => deleteBranch(repoPath, branch));
    if (!report.branch.deleted) report.branch.kept = "missing";
  } catch (err) {
    report.branch.kept = "failed";
    report.branch.error = errorText(err);
    report.pending = true;
  }
}

/** The cleanup as a run event; the payload is the report as JSON. */
export function cleanupEvent(type: string, actor: string, report: CleanupReport | (CleanupReport & { worktreeId: string })): NewEvent {
  return { type, actor, payload: JSON.parse(JSON.stringify(report)) as Prisma.InputJsonValue };
}

/** When a merge's or abort's cleanup should be tried again (null: nothing is left). */
export function cleanupRetryAt(report: CleanupReport, now: Date, delayMs = CLEANUP_FIRST_RETRY_MS): Date | null {
  return report.pending ? new Date(now.getTime() + delayMs) : null;
}

/**
 * Appends a cleanup outcome to the run's events. `retry` (merge and abort) also records
 * whether the sweep must come back for what is left.
 */
export async function recordCleanup(
  deps: Deps,
  runId: string,
  actor: string,
  type: string,
  report: CleanupReport | (CleanupReport & { worktreeId: string }),
  opts: { retry?: boolean } = {},
) {
  const data: Prisma.RunUpdateInput = opts.retry ? { cleanupRetryAt: cleanupRetryAt(report, new Date()) } : {};
  const run = await deps.db.prisma.$transaction((tx) => transition(tx, runId, {}, data, [cleanupEvent(type, actor, report)]));
  if (run) await publishRunChange(deps.notifier, run.id, run.boardId);
}

// ── Finishing what a merge or abort left ──────────────────────────────────────────────

export const SWEEP_ACTOR = "system:sweeper";

export interface PendingCleanupReport {
  /** Runs whose cleanup is now complete. */
  finished: string[];
  /** Runs where something is still left (tried again later). */
  left: string[];
}

/**
 * Tries again the cleanups that merges and aborts could not finish (`cleanupRetryAt` due):
 * the worktrees are removed and the branch deleted as the merge or abort asked. A try that
 * changes something appends a `run.cleaned` event by `system:sweeper`; one that changes
 * nothing only moves the next try. Safe on several replicas (the pipeline lock, idempotent
 * steps, a conditional update).
 */
export async function finishPendingCleanups(deps: Deps, opts: { now?: Date; limit?: number } = {}): Promise<PendingCleanupReport> {
  const now = opts.now ?? new Date();
  const runs = await deps.db.prisma.run.findMany({
    where: { cleanupRetryAt: { lte: now } },
    orderBy: { cleanupRetryAt: "asc" },
    take: opts.limit ?? 50,
    include: { project: { select: { repoPath: true } } },
  });
  const result: PendingCleanupReport = { finished: [], left: [] };
  for (const run of runs) {
    const due = run.cleanupRetryAt;
    // Only merged and aborted runs are ever marked; anything else has nothing to finish.
    const report =
      run.status === "merged" || run.status === "aborted"
        ? await withRunPipelineLock(run.project.repoPath, (heldLock) =>
            removeRunWorktrees(deps, run, run.project.repoPath, { deleteBranch: true, ...(heldLock ? { heldLock } : {}) }),
          )
        : null;
    const progressed = report !== null && (report.branch.deleted || report.worktrees.some((w) => w.outcome === "removed"));
    const next = report?.pending ? new Date(now.getTime() + CLEANUP_RETRY_EVERY_MS) : null;
    const updated = await deps.db.prisma.$transaction((tx) =>
      transition(
        tx,
        run.id,
        { cleanupRetryAt: due },
        { cleanupRetryAt: next },
        report && (progressed || !report.pending) ? [cleanupEvent("run.cleaned", SWEEP_ACTOR, report)] : [],
      ),
    );
    if (updated && report && (progressed || !report.pending)) await publishRunChange(deps.notifier, updated.id, updated.boardId);
    (next ? result.left : result.finished).push(run.id);
  }
  return result;
}
