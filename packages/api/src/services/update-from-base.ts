/**
 * A moving base (docs/review-loop.md): `run.updateFromBase` merges the base branch into the
 * thread's branch on the server — clean, it is a new commit on the branch and the run's diff
 * and head follow it (evidence given on the old head no longer counts); conflicting, nothing
 * changes and the files are listed. `run.resolveConflicts` then hands the merge to the
 * agent: a follow-up whose runner starts the merge and leaves the conflicts in its checkout.
 */
import { BranchMovedError, diffAgainstBase, MergeConflictError, MissingBranchError, updateBranchFromBase } from "@agentboard/git";
import type { Deps } from "./deps.js";
import { conflict, notFound } from "../errors.js";
import { topics } from "../infra/notifier.js";
import { repositoryAvailable, withRunPipelineLock } from "./merge-lock.js";
import { transition, type Tx } from "./run-events.js";
import { ACTIVE_STATUSES } from "./runs.js";
import { queueThreadRun } from "./thread.js";

const MAX_DIFF_BYTES = 5 * 1024 * 1024;

/** Keys of the run's automatic-check items whose passing check was on another head than `head`. */
async function staleCheckKeys(tx: Tx, runId: string, head: string): Promise<string[]> {
  const items = await tx.dodItem.findMany({
    where: { runId, check: { not: null }, evidence: { some: { kind: "check", validatedAt: { not: null }, rejectedAt: null } } },
    orderBy: { position: "asc" },
    select: { key: true, evidence: { where: { validatedAt: { not: null }, rejectedAt: null }, select: { commit: true } } },
  });
  return items.filter((i) => !i.evidence.some((e) => e.commit === head)).map((i) => i.key);
}

async function threadHead(deps: Deps, runId: string) {
  const run = await deps.db.prisma.run.findUnique({ where: { id: runId }, include: { project: true } });
  if (!run) throw notFound("run", runId);
  if (run.status === "queued" || (ACTIVE_STATUSES as readonly string[]).includes(run.status)) {
    throw conflict("RUN_ACTIVE", `run ${runId} is ${run.status}; wait for it to end`, { status: run.status });
  }
  if (run.status === "merged" || run.status === "aborted") throw conflict("INVALID_STATE", `run ${runId} is ${run.status}`, { status: run.status });
  const head = await deps.db.prisma.run.findFirst({
    where: { cardId: run.cardId, branch: run.branch },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { id: true, status: true },
  });
  if (head && head.id !== run.id)
    throw conflict("NOT_THREAD_HEAD", `run ${runId} is not the latest run of its thread; use ${head.id}`, { headRunId: head.id, status: head.status });
  if (!(await repositoryAvailable(run.project.repoPath))) {
    throw conflict("REPOSITORY_UNAVAILABLE", `the repository of project ${run.project.name} is not on this server`, { projectId: run.projectId });
  }
  return run;
}

export async function updateFromBase(deps: Deps, actor: string, input: { runId: string }) {
  const run = await threadHead(deps, input.runId);
  const repoPath = run.project.repoPath;
  return withRunPipelineLock(repoPath, async (heldLock) => {
    let result: Awaited<ReturnType<typeof updateBranchFromBase>>;
    try {
      result = await updateBranchFromBase({ repoPath, baseBranch: run.baseBranch, branch: run.branch, ...(heldLock ? { heldLock } : {}) });
    } catch (err) {
      if (err instanceof MergeConflictError) {
        throw conflict("MERGE_CONFLICT", `merging ${run.baseBranch} into ${run.branch} conflicts in ${err.files.length} file(s); nothing was changed`, {
          files: err.files,
          suggestion: "run.resolveConflicts",
        });
      }
      if (err instanceof MissingBranchError) throw conflict("BRANCH_MISSING", err.message, { branch: run.branch });
      if (err instanceof BranchMovedError) throw conflict("INVALID_STATE", err.message, { retryable: true });
      throw err;
    }
    if (result.status === "up-to-date") return { status: result.status, head: result.head, files: [] as string[], run };
    const diff = await diffAgainstBase({ dir: repoPath, baseCommit: result.baseCommit, head: result.head, maxBytes: MAX_DIFF_BYTES });
    const updated = await deps.db.prisma.$transaction(async (tx) => {
      // Evidence given before the branch moved (the automatic checks the runner ran, and
      // anything else not yet pinned to a head) is for the old head: pinned to it, it no
      // longer counts at the gate, which asks for it again on the new head.
      await tx.dodEvidence.updateMany({ where: { runId: run.id, commit: null }, data: { commit: result.branchBefore } });
      const stale = await staleCheckKeys(tx, run.id, result.head);
      return transition(
        tx,
        run.id,
        {},
        {
          headCommit: result.head,
          diff: diff.diff,
          diffHash: diff.hash,
          diffStat: { ...diff.stat },
          filesChanged: diff.files.map((f) => f.path),
        },
        [
          {
            type: "run.branch_updated",
            actor,
            payload: { from: result.branchBefore, to: result.head, baseCommit: result.baseCommit, baseBranch: run.baseBranch, staleChecks: stale },
          },
        ],
      );
    });
    await Promise.all([deps.notifier.publish(topics.run(run.id)), deps.notifier.publish(topics.board(run.boardId))]);
    return { status: result.status, head: result.head, files: [] as string[], run: updated ?? run };
  });
}

/** The follow-up that asks the agent to finish a conflicting merge of the base into the branch. */
export async function resolveConflicts(deps: Deps, actor: string, input: { runId: string; note?: string; command?: string }) {
  const run = await threadHead(deps, input.runId);
  const prompt = [
    `Merging the base branch ${run.baseBranch} into this branch conflicts. ` +
      "The merge has been started in your worktree and the conflicts are left in the files (see `git status`).",
    "Resolve every conflict so that both sides' intent is kept, and remove all conflict markers. " +
      "Do not commit: the merge is committed for you once no conflict marker remains.",
    input.note?.trim() ? `Note from the reviewer:\n${input.note.trim()}` : "",
  ]
    .filter((p) => p !== "")
    .join("\n\n");
  return queueThreadRun(deps, actor, run, { kind: "resolve_conflicts", prompt, command: input.command });
}
