import {
  BaseBranchMovedError,
  branchCommit,
  DEFAULT_AUTHOR,
  findMergeByTrailer,
  MergeConflictError,
  mergeRunBranch,
  MissingBranchError,
  previewMerge,
  VerifiedStateMovedError,
  type MergeRunBranchResult,
  type RepositoryLock,
} from "@agentboard/git";
import type { MergeVerification, Prisma, Run, RunStatus, VerificationStatus } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { AppError, conflict, notFound, type ErrorReason } from "../errors.js";
import { publishRunChange, topics } from "../infra/notifier.js";
import { transition, type Tx } from "./run-events.js";
import { gateOf, independentReviewBlock, staleItems, type GateItem } from "./dod.js";
import { repositoryAvailable, withRunPipelineLock } from "./merge-lock.js";
import { cleanupEvent, cleanupRetryAt, removeRunWorktrees, type CleanupReport } from "./worktree-cleanup.js";
import { ABORTABLE_STATUSES } from "./abort.js";

export interface MergeInput {
  runId: string;
  /**
   * Run the automatic checks again on the base merged into the branch before merging. The
   * checks are repository code: a runner of the workspace claims the re-verification and
   * runs it in its sandbox; the merge answers `verifying` and finishes when it reports.
   */
  reverify?: boolean;
  /** Remove the run's worktrees and delete its branch after the merge (default true). */
  cleanup?: boolean;
  /** The merger's stable identity (four eyes). */
  mergerId?: string;
}

const EVENT_OUTPUT_CHARS = 4 * 1024;
/** The merge commit's trailer naming the run; also how a lost record of a merge is found again. */
const RUN_TRAILER = "Agentboard-Run";
/** Verifications of one merge request before a base or branch that keeps moving refuses it. */
export const MAX_VERIFY_ATTEMPTS = 3;

const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ").trim();

/** One command of a re-verification, as the runner reports it. */
export interface CheckRun {
  key: string;
  title: string;
  required: boolean;
  command: string;
  exitCode: number | null;
  passed: boolean;
  timedOut: boolean;
  durationMs: number;
  /** The end of stdout and stderr, interleaved. */
  output: string;
}

/** What the runner found on the integrated state (the base merged into the branch). */
export interface ReverifyReport {
  passed: boolean;
  baseCommit: string;
  branchCommit: string;
  /** The integrated commit the checks ran on (null when it could not be made). */
  head: string | null;
  /** Files in conflict when the base does not merge into the branch; no check ran. */
  conflict?: string[];
  setup: CheckRun | null;
  checks: CheckRun[];
}

function loadRun(deps: Deps, runId: string) {
  return deps.db.prisma.run.findUnique({
    where: { id: runId },
    include: {
      project: true,
      card: { select: { id: true, title: true, column: true } },
      dodItems: { orderBy: { position: "asc" }, include: { evidence: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] } } },
    },
  });
}

function summarizeCheck(c: CheckRun) {
  const { output, ...rest } = c;
  return { ...rest, output: output.length > EVENT_OUTPUT_CHARS ? `…${output.slice(-EVENT_OUTPUT_CHARS)}` : output };
}

export function reverifyPayload(r: ReverifyReport, extra: Record<string, Prisma.InputJsonValue | null> = {}): Prisma.InputJsonValue {
  return {
    passed: r.passed,
    baseCommit: r.baseCommit,
    branchCommit: r.branchCommit,
    head: r.head,
    conflict: r.conflict ?? null,
    setup: r.setup ? summarizeCheck(r.setup) : null,
    checks: r.checks.map(summarizeCheck),
    ...extra,
  };
}

export async function appendEvent(deps: Deps, runId: string, boardId: string, type: string, actor: string, payload: Prisma.InputJsonValue) {
  await deps.db.prisma.$transaction((tx) => transition(tx, runId, {}, {}, [{ type, actor, payload }]));
  await publishRunChange(deps.notifier, runId, boardId);
}

async function moveCardToDone(tx: Tx, cardId: string, boardId: string) {
  const card = await tx.card.findUnique({ where: { id: cardId }, select: { column: true } });
  if (!card || card.column === "done") return;
  const last = await tx.card.findFirst({ where: { boardId, column: "done" }, orderBy: { position: "desc" }, select: { position: true } });
  await tx.card.update({ where: { id: cardId }, data: { column: "done", position: (last?.position ?? 0) + 1024 } });
}

/** A merge's re-verification, as callers see it (`run.merge`, `run.mergeability`). */
export interface VerificationView {
  id: string;
  status: VerificationStatus;
  attempt: number;
  baseCommit: string;
  branchCommit: string;
  requestedBy: string;
  runnerId: string | null;
  createdAt: Date;
  claimedAt: Date | null;
  finishedAt: Date | null;
  /** Why it refused the merge (REVERIFY_FAILED, MERGE_CONFLICT, BASE_MOVED…). */
  reason: string | null;
  message: string | null;
  report: Prisma.JsonValue | null;
}

/** A request as services read it (its lease token is omitted by default). */
export type StoredVerification = Omit<MergeVerification, "leaseToken">;

export function verificationView(v: StoredVerification): VerificationView {
  const { id, status, attempt, baseCommit, branchCommit, requestedBy, runnerId, createdAt, claimedAt, finishedAt, reason, message, report } = v;
  return { id, status, attempt, baseCommit, branchCommit, requestedBy, runnerId, createdAt, claimedAt, finishedAt, reason, message, report };
}

type MergeSummary = Pick<MergeRunBranchResult, "status" | "mergeCommit" | "baseBefore" | "branchCommit" | "parents" | "checkout">;

/**
 * `merged`: done (`merge` says how). `verifying`: a runner re-verifies the integrated state
 * first; `verification` is the request, and the merge finishes (or is refused, with the
 * reason on the request) when the runner reports. Nothing else is set then.
 */
export interface MergeResult {
  status: "merged" | "verifying";
  run: Awaited<ReturnType<typeof finishMerge>> | Run;
  merge: MergeSummary | null;
  reverify: ReverifyReport | null;
  cleanup: CleanupReport | null;
  verification: VerificationView | null;
}

/**
 * Merges a succeeded run whose Definition of Done is complete, as an admin decided.
 *
 * Order, chosen so that every failure leaves a consistent state:
 * 1. everything runs under the repository's pipeline lock (merges and aborts of one
 *    repository never interleave);
 * 2. the gate and the run's status are read inside the lock;
 * 3. re-verification, if asked, is queued for a runner (the server runs no repository
 *    code) and the call answers `verifying`; the runner's report comes back through
 *    `completeVerification`, which carries on from step 4 under the same lock, merging
 *    exactly the commits that were verified;
 * 4. the git merge (`--no-ff`, a compare-and-swap on the base ref): a conflict changes
 *    nothing;
 * 5. cleanup, if asked: the worktrees removed and the branch deleted, each outcome
 *    reported rather than thrown (the merge has happened whatever it says);
 * 6. then the database: status `merged`, the card to Done, the `run.merged` and
 *    `run.cleaned` events in one transaction, so that whoever sees the run merged also sees
 *    what became of its worktree and branch. Git goes first because a merge commit cannot
 *    be taken back safely once others may have fetched it, while the database step can be
 *    redone: if the process dies between 4 and 6, merging again finds the branch already
 *    merged — or, its branch deleted, the merge commit by its `Agentboard-Run` trailer —
 *    and records it.
 */
export async function mergeRun(deps: Deps, actor: string, input: MergeInput): Promise<MergeResult> {
  const first = await loadRun(deps, input.runId);
  if (!first) throw notFound("run", input.runId);
  const repoPath = first.project.repoPath;
  if (!(await repositoryAvailable(repoPath))) {
    throw conflict("REPOSITORY_UNAVAILABLE", `the repository of project ${first.project.name} is not on this server`, { projectId: first.projectId });
  }

  return withRunPipelineLock(repoPath, async (heldLock) => {
    const run = await mergeableRun(deps, input.runId, input.mergerId ?? null);
    let merged: MergeRunBranchResult;
    const branchTip = await branchCommit(repoPath, run.branch);
    if (branchTip === null) {
      merged = await recoveredMerge(repoPath, run);
    } else {
      if (input.reverify && (run.project.setupScript || run.dodItems.some((i) => i.check !== null))) {
        const verification = await queueVerification(deps, actor, run, repoPath, branchTip, input.cleanup !== false);
        return { status: "verifying", run, merge: null, reverify: null, cleanup: null, verification: verificationView(verification) };
      }
      merged = await gitMerge(deps, actor, run, repoPath, heldLock);
    }
    return completeMerge(deps, actor, run, repoPath, merged, null, input.cleanup !== false, heldLock);
  });
}

/**
 * The run, read inside the lock, if it can be merged now (else the reason). Four eyes is
 * checked for `mergerId` when given (a re-verified merge was checked when it was asked for).
 */
async function mergeableRun(deps: Deps, runId: string, mergerId: string | null = null) {
  const run = await loadRun(deps, runId);
  if (!run) throw notFound("run", runId);
  if (run.status !== "succeeded") {
    throw conflict(
      "INVALID_STATE",
      run.status === "merged" ? `run ${run.id} is already merged` : `run ${run.id} is ${run.status}; only a succeeded run can be merged`,
      {
        status: run.status,
      },
    );
  }
  const gate = gateOf(run.dodItems);
  if (!gate.satisfied) {
    throw conflict("DOD_INCOMPLETE", `the Definition of Done is incomplete: ${gate.missing.map((m) => m.key).join(", ")}`, { missing: gate.missing });
  }
  const stale = staleItems(run.dodItems, run.headCommit);
  if (stale.length > 0) {
    throw conflict("DOD_INCOMPLETE", `validated on an older head of the branch: ${stale.map((m) => m.key).join(", ")}; validate them again`, {
      missing: stale,
    });
  }
  await assertThreadHead(deps, run);
  const fourEyes = independentReviewBlock(run, mergerId);
  if (fourEyes) throw conflict("INDEPENDENT_REVIEW", fourEyes);
  return run;
}

async function completeMerge(
  deps: Deps,
  actor: string,
  run: LoadedRun,
  repoPath: string,
  merged: MergeRunBranchResult,
  reverify: ReverifyReport | null,
  cleanupAfter: boolean,
  heldLock: RepositoryLock | undefined,
): Promise<MergeResult> {
  const cleanup = cleanupAfter ? await removeRunWorktrees(deps, run, repoPath, { deleteBranch: true, ...(heldLock ? { heldLock } : {}) }) : null;
  const updated = await finishMerge(deps, actor, run, merged, reverify !== null, cleanup);
  const { status, mergeCommit, baseBefore, branchCommit: tip, parents, checkout } = merged;
  return {
    status: "merged",
    run: updated,
    merge: { status, mergeCommit, baseBefore, branchCommit: tip, parents, checkout },
    reverify,
    cleanup,
    verification: null,
  };
}

/** The open re-verification of the run, or a new one for the current base and branch tips. */
async function queueVerification(
  deps: Deps,
  actor: string,
  run: LoadedRun,
  repoPath: string,
  branchTip: string,
  cleanup: boolean,
): Promise<StoredVerification> {
  const open = await deps.db.prisma.mergeVerification.findFirst({
    where: { runId: run.id, status: { in: ["queued", "claimed"] } },
    orderBy: { createdAt: "desc" },
  });
  if (open) return open;
  const baseTip = await branchCommit(repoPath, run.baseBranch);
  if (baseTip === null)
    throw conflict("BRANCH_MISSING", `base branch ${run.baseBranch} does not exist in the project's repository`, { branch: run.baseBranch });
  const v = await deps.db.prisma.mergeVerification.create({
    data: { runId: run.id, workspaceId: run.workspaceId, baseCommit: baseTip, branchCommit: branchTip, requestedBy: actor, cleanup },
  });
  await appendEvent(deps, run.id, run.boardId, "run.reverify_requested", actor, { verificationId: v.id, baseCommit: baseTip, branchCommit: branchTip });
  await deps.notifier.publish(topics.queued(run.workspaceId));
  return v;
}

/** Why a report refuses the merge, or null when it passes. */
function refusal(run: LoadedRun, r: ReverifyReport): { reason: ErrorReason; message: string } | null {
  if (r.conflict) return { reason: "MERGE_CONFLICT", message: `${run.baseBranch} does not merge cleanly into ${run.branch}: ${r.conflict.join(", ")}` };
  if (r.passed) return null;
  const failed = [r.setup, ...r.checks].filter((c): c is CheckRun => c !== null && !c.passed && c.required);
  return {
    reason: "REVERIFY_FAILED",
    message: `re-verification on the integrated state failed: ${failed.map((c) => c.key).join(", ") || "incomplete report"}`,
  };
}

export type VerifiedOutcome =
  | { kind: "merged"; result: MergeResult }
  | { kind: "refused"; reason: ErrorReason; message: string }
  | { kind: "moved"; baseCommit: string; branchCommit: string };

/**
 * The rest of a re-verifying merge, once a runner reported on `v`'s commits: refused if
 * the report fails; merged if it passes and base and branch are still where they were
 * verified (compare-and-swap: nothing else is merged); `moved` otherwise (verify again).
 */
export async function mergeVerified(deps: Deps, v: StoredVerification, report: ReverifyReport): Promise<VerifiedOutcome> {
  const first = await loadRun(deps, v.runId);
  if (!first) throw notFound("run", v.runId);
  const repoPath = first.project.repoPath;
  return withRunPipelineLock(repoPath, async (heldLock) => {
    let run: LoadedRun;
    try {
      run = await mergeableRun(deps, v.runId);
    } catch (err) {
      if (err instanceof AppError && err.code === "CONFLICT") return { kind: "refused", reason: err.reason, message: err.message };
      throw err;
    }
    const refused = refusal(run, report);
    if (refused) return { kind: "refused", ...refused };
    const [baseNow, branchNow] = await Promise.all([branchCommit(repoPath, run.baseBranch), branchCommit(repoPath, run.branch)]);
    if (baseNow === null || branchNow === null) {
      return {
        kind: "refused",
        reason: "BRANCH_MISSING",
        message: `branch ${baseNow === null ? run.baseBranch : run.branch} does not exist in the project's repository`,
      };
    }
    if (baseNow !== v.baseCommit || branchNow !== v.branchCommit) return { kind: "moved", baseCommit: baseNow, branchCommit: branchNow };
    let merged: MergeRunBranchResult;
    try {
      merged = await gitMerge(deps, v.requestedBy, run, repoPath, heldLock, { baseCommit: v.baseCommit, branchCommit: v.branchCommit });
    } catch (err) {
      if (err instanceof VerifiedStateMovedError) return { kind: "moved", ...err.actual };
      if (err instanceof AppError && err.code === "CONFLICT") return { kind: "refused", reason: err.reason, message: err.message };
      throw err;
    }
    return { kind: "merged", result: await completeMerge(deps, v.requestedBy, run, repoPath, merged, report, v.cleanup, heldLock) };
  });
}

type LoadedRun = NonNullable<Awaited<ReturnType<typeof loadRun>>>;

/** The run's merge commit on the base when its branch is gone, or BRANCH_MISSING. */
async function recoveredMerge(repoPath: string, run: LoadedRun): Promise<MergeRunBranchResult> {
  const landed = await findMergeByTrailer({ repoPath, baseBranch: run.baseBranch, key: RUN_TRAILER, value: run.id });
  if (!landed || landed.parents.length < 2) {
    throw conflict("BRANCH_MISSING", `branch ${run.branch} does not exist in the project's repository`, { branch: run.branch });
  }
  // Merged and cleaned up before the database recorded it (the server stopped in between).
  const [baseBefore = "", branchTip = ""] = landed.parents;
  return { status: "already-merged", mergeCommit: landed.commit, baseBefore, branchCommit: branchTip, parents: landed.parents, attempts: 0, checkout: null };
}

async function gitMerge(
  deps: Deps,
  actor: string,
  run: LoadedRun,
  repoPath: string,
  heldLock: RepositoryLock | undefined,
  expect?: { baseCommit: string; branchCommit: string },
): Promise<MergeRunBranchResult> {
  try {
    return await mergeRunBranch({
      repoPath,
      ...(heldLock ? { heldLock } : {}),
      ...(expect ? { expect } : {}),
      baseBranch: run.baseBranch,
      branch: run.branch,
      author: DEFAULT_AUTHOR,
      message: [
        `Merge branch '${run.branch}' into ${run.baseBranch}`,
        "",
        oneLine(run.card.title),
        "",
        `${RUN_TRAILER}: ${run.id}`,
        `Merged-by: ${oneLine(actor)}`,
      ].join("\n"),
    });
  } catch (err) {
    const mapped = mapMergeError(err, run.baseBranch);
    if (!mapped) throw err;
    if (mapped.reason === "MERGE_CONFLICT") {
      await appendEvent(deps, run.id, run.boardId, "run.merge_conflict", actor, { files: mapped.details.files ?? [], baseBranch: run.baseBranch });
    }
    throw conflict(mapped.reason, mapped.message, mapped.details);
  }
}

function mapMergeError(
  err: unknown,
  baseBranch: string,
): { reason: ErrorReason; message: string; details: Record<string, unknown> & { files?: string[] } } | null {
  if (err instanceof MergeConflictError) {
    return { reason: "MERGE_CONFLICT", message: err.message, details: { files: err.files, baseCommit: err.baseCommit, branchCommit: err.branchCommit } };
  }
  if (err instanceof MissingBranchError) return { reason: "BRANCH_MISSING", message: err.message, details: { branch: err.branch } };
  if (err instanceof BaseBranchMovedError) {
    return { reason: "BASE_MOVED", message: `${baseBranch} kept moving during the merge; retry`, details: { retryable: true } };
  }
  return null;
}

async function finishMerge(
  deps: Deps,
  actor: string,
  run: { id: string; cardId: string; boardId: string; baseBranch: string; branch: string },
  merged: MergeRunBranchResult,
  reverified: boolean,
  cleanup: CleanupReport | null,
) {
  const now = new Date();
  const updated = await deps.db.prisma.$transaction(async (tx) => {
    const r = await transition(
      tx,
      run.id,
      { status: "succeeded" },
      {
        status: "merged",
        mergedBy: actor,
        mergedAt: now,
        mergeCommit: merged.mergeCommit,
        ...(cleanup ? { cleanupRetryAt: cleanupRetryAt(cleanup, now) } : {}),
      },
      [
        {
          type: "run.merged",
          actor,
          payload: {
            by: actor,
            mergeCommit: merged.mergeCommit,
            baseBefore: merged.baseBefore,
            branchCommit: merged.branchCommit,
            parents: merged.parents,
            baseBranch: run.baseBranch,
            branch: run.branch,
            alreadyMerged: merged.status === "already-merged",
            reverified,
            checkout: merged.checkout ? { path: merged.checkout.path, updated: merged.checkout.updated, reason: merged.checkout.reason ?? null } : null,
          },
        },
        ...(cleanup ? [cleanupEvent("run.cleaned", actor, cleanup)] : []),
      ],
    );
    if (r) await moveCardToDone(tx, run.cardId, run.boardId);
    return r;
  });
  // Unreachable through the API (aborts of succeeded runs take the same lock); if the row
  // was changed behind our back the git merge stands and the error says so (merging again
  // records it, by the trailer if the branch is already gone).
  if (!updated) throw new Error(`run ${run.id} changed while it was being merged; ${run.branch} is merged at ${merged.mergeCommit}`);
  await publishRunChange(deps.notifier, run.id, run.boardId);
  return updated;
}

/** A merge whose record was lost can still be recorded (see recoveredMerge). */
async function recoverable(repoPath: string, run: LoadedRun): Promise<boolean> {
  return recoveredMerge(repoPath, run).then(
    () => true,
    () => false,
  );
}

// ── run.mergeability ───────────────────────────────────────────────────────────────────

export interface MergeBlocker {
  /** The error reason `run.merge` would answer with. */
  reason: ErrorReason;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * What the merge button needs: whether a merge can succeed now, and if not, every reason
 * (not just the first). Conflicts and re-verification failures are only found by trying.
 */
/** The latest run of the run's thread (its card, its branch). */
async function threadHeadOf(deps: Deps, run: { cardId: string; branch: string }) {
  return deps.db.prisma.run.findFirst({
    where: { cardId: run.cardId, branch: run.branch },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { id: true, status: true },
  });
}

/** Only the thread's latest run is merged: an earlier one's evidence is for an older head. */
async function assertThreadHead(deps: Deps, run: { id: string; cardId: string; branch: string }) {
  const head = await threadHeadOf(deps, run);
  if (head && head.id !== run.id)
    throw conflict("NOT_THREAD_HEAD", `a later run of this thread exists: merge ${head.id}`, { headRunId: head.id, status: head.status });
}

export async function mergeability(deps: Deps, runId: string, opts: { callerCanMerge: boolean; callerCanAbort: boolean; callerId?: string }) {
  const run = await loadRun(deps, runId);
  if (!run) throw notFound("run", runId);
  const reasons: MergeBlocker[] = [];
  if (!opts.callerCanMerge) reasons.push({ reason: "FORBIDDEN", message: "only an admin can merge" });
  if (run.status !== "succeeded") {
    reasons.push({
      reason: "INVALID_STATE",
      message: run.status === "merged" ? "already merged" : `the run is ${run.status}; only a succeeded run can be merged`,
      details: { status: run.status },
    });
  }
  const gate = gateOf(run.dodItems);
  if (!gate.satisfied) {
    reasons.push({
      reason: "DOD_INCOMPLETE",
      message: `missing validated evidence: ${gate.missing.map((m) => m.title).join(", ")}`,
      details: { missing: gate.missing },
    });
  }
  const stale = staleItems(run.dodItems, run.headCommit);
  if (stale.length > 0) {
    const checked = new Set(run.dodItems.filter((i) => i.check !== null).map((i) => i.id));
    const on = stale
      .map((m) => `${m.title} (${checked.has(m.itemId) ? "its check passed" : "validated"} on ${m.validatedOn?.slice(0, 7) ?? "?"}, before the branch moved)`)
      .join(", ");
    const rerun = stale.filter((m) => checked.has(m.itemId)).map((m) => m.key);
    reasons.push({
      reason: "DOD_INCOMPLETE",
      message: `validate again on the new head: ${on}`,
      details: { missing: stale, stale: true, checksToRerun: rerun },
    });
  }
  const head = await threadHeadOf(deps, run);
  if (head && head.id !== run.id) {
    reasons.push({ reason: "NOT_THREAD_HEAD", message: `a later run of this thread exists: merge ${head.id}`, details: { headRunId: head.id } });
  }
  const fourEyes = independentReviewBlock(run, opts.callerId ?? null);
  if (fourEyes) reasons.push({ reason: "INDEPENDENT_REVIEW", message: fourEyes });
  let base: BasePreview | null = null;
  if (run.status === "succeeded") {
    if (!(await repositoryAvailable(run.project.repoPath))) {
      reasons.push({ reason: "REPOSITORY_UNAVAILABLE", message: `the repository of project ${run.project.name} is not on this server` });
    } else if ((await branchCommit(run.project.repoPath, run.branch)) === null && !(await recoverable(run.project.repoPath, run))) {
      reasons.push({ reason: "BRANCH_MISSING", message: `branch ${run.branch} does not exist`, details: { branch: run.branch } });
    } else {
      base = await basePreview(run);
      if (base && base.conflicts.length > 0) {
        reasons.push({
          reason: "MERGE_CONFLICT",
          message: `${run.branch} and ${run.baseBranch} conflict in ${base.conflicts.length} file(s): update from the base, or ask the agent to resolve`,
          details: { files: base.conflicts, suggestion: "run.resolveConflicts" },
        });
      }
    }
  }
  const missing: GateItem[] = gate.missing;
  const latest = await deps.db.prisma.mergeVerification.findFirst({ where: { runId: run.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
  if (latest && (latest.status === "queued" || latest.status === "claimed")) {
    reasons.push({
      reason: "VERIFYING",
      message: latest.status === "queued" ? "re-verification is waiting for a runner" : "a runner is re-verifying the integrated state",
    });
  }
  return {
    runId: run.id,
    status: run.status,
    canMerge: reasons.length === 0,
    reasons,
    missing,
    items: run.dodItems.map((i) => ({
      id: i.id,
      key: i.key,
      title: i.title,
      required: i.required,
      status: i.status,
      hasCheck: i.check !== null,
      satisfied: i.evidence.some((e) => e.validatedAt !== null && e.rejectedAt === null),
    })),
    /** Items whose checks a re-verifying merge would run. */
    reverifiableChecks: run.dodItems.filter((i) => i.check !== null).length,
    /** The latest re-verification of a merge (waiting for a runner, running, or how it ended). */
    verification: latest ? verificationView(latest) : null,
    canAbort: opts.callerCanAbort && (ABORTABLE_STATUSES as readonly RunStatus[]).includes(run.status),
    baseBranch: run.baseBranch,
    branch: run.branch,
    /**
     * The base against the branch now: `behind` commits of the base are not in the branch
     * (the base moved since the run's checks ran on its head), and the files a merge would
     * conflict in. null when the run is not mergeable or its branch is not here.
     */
    base,
  };
}

export interface BasePreview {
  baseCommit: string;
  branchCommit: string;
  behind: number;
  conflicts: string[];
  /** Whether the branch tip is the run's head (the commit its checks and evidence were on). */
  branchIsRunHead: boolean;
}

async function basePreview(run: { project: { repoPath: string }; baseBranch: string; branch: string; headCommit: string | null }): Promise<BasePreview | null> {
  const p = await previewMerge({ repoPath: run.project.repoPath, baseBranch: run.baseBranch, branch: run.branch });
  if (!p) return null;
  return { ...p, branchIsRunHead: run.headCommit === null || run.headCommit === p.branchCommit };
}
