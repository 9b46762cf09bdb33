import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { branchCommit, dirSize, listWorktrees as gitWorktrees, removeWorktree, assertSafeRefName } from "@agentboard/git";
import type { Prisma, Run, RunStatus } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { conflict, notFound } from "../errors.js";
import { topics } from "../infra/notifier.js";
import { transition } from "./run-events.js";
import { ACTIVE_STATUSES } from "./runs.js";
import { repositoryAvailable, withRunPipelineLock } from "./merge-lock.js";

/**
 * The server's side of worktrees: the record runners keep (one row per worktree), and the
 * removal of a run's worktrees and branch when it is merged, aborted, removed by an admin
 * or swept. Only two kinds of path are ever removed, and only after git confirms it is a
 * linked worktree of the run's own repository: a path a runner recorded for this run, and
 * a worktree that has the run's branch (a name the server generated) checked out. A path
 * from a request is never used.
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
  const toMeasure = rows.filter((r, i) => present[i]).slice(0, SIZE_MEASURE_LIMIT);
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

// ── Removing a run's worktrees ──────────────────────────────────────────────────────────

export type WorktreeOutcome = "removed" | "gone" | "refused" | "failed" | "skipped";

export interface CleanupReport {
  /** "unavailable": the repository is not on this machine (a remote runner's); nothing was touched. */
  repository: "available" | "unavailable";
  worktrees: { worktreeId: string | null; path: string; outcome: WorktreeOutcome; error?: string }[];
  branch: { name: string; deleted: boolean; kept?: "requested" | "unavailable" | "missing"; error?: string };
}

const realOrResolved = (p: string) => fs.realpath(p).catch(() => path.resolve(p));

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 2000);
}

/** Environment for git: nothing inherited that could point it at another repository. */
function gitEnv(): NodeJS.ProcessEnv {
  // `as`: Next.js types make NODE_ENV required on ProcessEnv, and the web build type-checks this file.
  const env = {} as NodeJS.ProcessEnv;
  for (const [k, v] of Object.entries(process.env)) if (!k.toUpperCase().startsWith("GIT_")) env[k] = v;
  return { ...env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };
}

/**
 * `git branch -D`: @agentboard/git only offers branch deletion together with removing a
 * worktree, and a run's branch often outlives its worktree (removed by an admin, swept).
 * The name was generated by the server and is checked again; git gets an argument array.
 */
export async function deleteBranch(repoPath: string, branch: string): Promise<boolean> {
  assertSafeRefName(branch);
  if ((await branchCommit(repoPath, branch)) === null) return false;
  await new Promise<void>((resolve, reject) => {
    execFile("git", ["-C", repoPath, "branch", "-D", branch], { env: gitEnv(), timeout: 60_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`git branch -D ${branch} failed: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
  return true;
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
  opts: { deleteBranch: boolean; onlyWorktreeId?: string },
): Promise<CleanupReport> {
  const rows = await deps.db.prisma.worktree.findMany({
    where: { runId: run.id, removedAt: null, ...(opts.onlyWorktreeId ? { id: opts.onlyWorktreeId } : {}) },
  });
  const report: CleanupReport = { repository: "available", worktrees: [], branch: { name: run.branch, deleted: false } };
  if (!(await repositoryAvailable(repoPath))) {
    report.repository = "unavailable";
    report.worktrees = rows.map((r) => ({ worktreeId: r.id, path: r.path, outcome: "skipped" }));
    report.branch.kept = "unavailable";
    return report;
  }

  const registered = await gitWorktrees(repoPath);
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
        await removeWorktree({ repoPath, dir: gitPath, deleteBranch: false });
        outcome = "removed";
      } catch (err) {
        outcome = "failed";
        error = errorText(err);
      }
    } else if (!(await exists(t.path))) {
      outcome = "gone";
    } else {
      // Something is there, but git does not know it as a worktree of this repository:
      // it is not ours to delete.
      outcome = "refused";
      error = "not a linked worktree of the project's repository; left untouched";
    }
    if ((outcome === "removed" || outcome === "gone") && t.ids.length > 0) {
      await deps.db.prisma.worktree.updateMany({ where: { id: { in: t.ids }, removedAt: null }, data: { removedAt: now } });
    }
    if (t.ids.length === 0) report.worktrees.push({ worktreeId: null, path: t.path, outcome, ...(error ? { error } : {}) });
    for (const id of t.ids) report.worktrees.push({ worktreeId: id, path: t.path, outcome, ...(error ? { error } : {}) });
  }

  if (!opts.deleteBranch) {
    report.branch.kept = "requested";
  } else if (run.branch === "" || run.branch === run.baseBranch) {
    report.branch.kept = "missing";
  } else {
    try {
      report.branch.deleted = await deleteBranch(repoPath, run.branch);
      if (!report.branch.deleted) report.branch.kept = "missing";
    } catch (err) {
      report.branch.error = errorText(err);
    }
  }
  return report;
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
  const report = await withRunPipelineLock(row.project.repoPath, () =>
    removeRunWorktrees(deps, row.run, row.project.repoPath, { deleteBranch: false, onlyWorktreeId: worktreeId }),
  );
  const outcome = report.worktrees[0];
  if (outcome?.outcome === "refused") throw conflict("WORKTREE_NOT_OURS", `${row.path} is not a worktree of the project's repository`, { path: row.path });
  if (outcome?.outcome === "failed") throw new Error(outcome.error ?? "worktree removal failed");
  await recordCleanup(deps, row.runId, actor, "worktree.removed", { worktreeId, ...report });
  const worktree = await deps.db.prisma.worktree.findUniqueOrThrow({ where: { id: worktreeId } });
  return { worktree, report };
}

/** Appends a cleanup outcome to the run's events (the run itself does not change). */
export async function recordCleanup(deps: Deps, runId: string, actor: string, type: string, report: CleanupReport | (CleanupReport & { worktreeId: string })) {
  const run = await deps.db.prisma.$transaction((tx) =>
    transition(tx, runId, {}, {}, [{ type, actor, payload: JSON.parse(JSON.stringify(report)) as Prisma.InputJsonValue }]),
  );
  if (run) await Promise.all([deps.notifier.publish(topics.run(runId)), deps.notifier.publish(topics.board(run.boardId))]);
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

const SWEEP_ACTOR = "system:sweeper";

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
      const r = await withRunPipelineLock(row.project.repoPath, () =>
        removeRunWorktrees(deps, row.run, row.project.repoPath, { deleteBranch: false, onlyWorktreeId: row.id }),
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
      report.failed.push({ worktreeId: row.id, error: errorText(err) });
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
  });
  return { marked: rows.length };
}
