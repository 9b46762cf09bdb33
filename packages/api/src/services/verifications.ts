import { randomUUID } from "node:crypto";
import type { Prisma } from "@agentboard/db";
import { parsePolicy, claimLabels } from "@agentboard/sandbox/policy";
import { untilStopped, type Deps } from "./deps.js";
import { conflict, notFound } from "../errors.js";
import { createWaiter, publishRunChange, topics } from "../infra/notifier.js";
import {
  appendEvent,
  MAX_VERIFY_ATTEMPTS,
  mergeVerified,
  reverifyPayload,
  verificationView,
  type CheckRun,
  type ReverifyReport,
  type VerificationView,
} from "./merge.js";

/**
 * Re-verification at merge time as work for runners (docs/dod-and-merge.md): `run.merge`
 * with `reverify` queues a request for the exact base and branch commits; a runner of the
 * workspace claims it (long-poll, lease and heartbeat like a run), merges the base into the
 * branch in a private checkout, runs the project's setup script and the run's checks in its
 * sandbox and reports; the merge then finishes here — only on those same commits — or is
 * refused with the reason on the request. The server runs no repository code.
 */

export interface VerificationClaimInput {
  workspaceId: string;
  labels?: string[];
  waitMs?: number;
  /** The claimant confines what it runs (default). False: only verifications of unconfined projects. */
  sandbox?: boolean;
}

/** What a runner needs to verify: the commits, the repository, the setup script and the checks. */
export interface VerificationClaim {
  verification: { id: string; runId: string; attempt: number; baseCommit: string; branchCommit: string; leaseToken: string };
  run: { id: string; projectId: string; branch: string; baseBranch: string };
  project: { id: string; repoPath: string; remoteUrl: string | null; setupScript: string | null; sandbox: Prisma.JsonValue | null };
  checks: Array<{ id: string; key: string; title: string; check: string; required: boolean }>;
}

/** How many queued requests one claim looks at (labels and the sandbox are matched here, not in SQL). */
const CANDIDATES = 20;

async function claimNext(deps: Deps, runnerId: string, input: VerificationClaimInput): Promise<VerificationClaim | null> {
  const now = new Date();
  const mine = new Set(claimLabels(input.labels ?? [], input.sandbox !== false));
  const candidates = await deps.db.prisma.mergeVerification.findMany({
    where: { workspaceId: input.workspaceId, OR: [{ status: "queued" }, { status: "claimed", leaseExpiresAt: { lt: now } }] },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    take: CANDIDATES,
    omit: { leaseToken: false },
    include: { run: { select: { labels: true, project: { select: { sandbox: true } } } } },
  });
  for (const c of candidates) {
    const labels = Array.isArray(c.run.labels) ? c.run.labels.filter((l): l is string => typeof l === "string") : [];
    if (!labels.every((l) => mine.has(l))) continue;
    if (input.sandbox === false && !unconfined(c.run.project.sandbox)) continue;
    const leaseToken = randomUUID();
    // Compare-and-swap: of several claimants, the one whose update matched the row it read wins.
    const won = await deps.db.prisma.mergeVerification.updateMany({
      where: { id: c.id, status: c.status, leaseToken: c.leaseToken },
      data: { status: "claimed", runnerId, leaseToken, leaseExpiresAt: new Date(now.getTime() + deps.config.leaseMs), claimedAt: now },
    });
    if (won.count === 1) return loadClaim(deps, c.id, leaseToken);
  }
  return null;
}

function unconfined(raw: Prisma.JsonValue | null): boolean {
  try {
    return parsePolicy(raw).unconfined;
  } catch {
    return false;
  }
}

async function loadClaim(deps: Deps, id: string, leaseToken: string): Promise<VerificationClaim> {
  const v = await deps.db.prisma.mergeVerification.findUniqueOrThrow({
    where: { id },
    include: {
      run: {
        select: {
          id: true,
          projectId: true,
          branch: true,
          baseBranch: true,
          project: { select: { id: true, repoPath: true, remoteUrl: true, setupScript: true, sandbox: true } },
          dodItems: {
            where: { check: { not: null } },
            orderBy: { position: "asc" },
            select: { id: true, key: true, title: true, check: true, required: true },
          },
        },
      },
    },
  });
  const { project, dodItems, ...run } = v.run;
  return {
    verification: { id: v.id, runId: v.runId, attempt: v.attempt, baseCommit: v.baseCommit, branchCommit: v.branchCommit, leaseToken },
    run,
    project,
    checks: dodItems.map((i) => ({ ...i, check: i.check ?? "" })),
  };
}

/** One workspace of a multi-scope claim, with the runner record claiming there. */
export interface VerificationScope {
  workspaceId: string;
  runnerId: string;
}

/**
 * A re-verification from any of `scopes`, waiting on all of them with one long-poll (as
 * `run.claim` does): a request queued in any of the workspaces wakes it at once, and only
 * the workspaces that were announced are read again.
 */
export async function claimVerificationAny(
  deps: Deps,
  scopes: readonly VerificationScope[],
  input: Omit<VerificationClaimInput, "workspaceId">,
  requestSignal?: AbortSignal,
): Promise<VerificationClaim | null> {
  // Where a round starts turns, so that a busy first workspace does not starve the others.
  let start = Math.floor(Math.random() * scopes.length);
  const tryScopes = async (which: readonly VerificationScope[]) => {
    for (let i = 0; i < which.length; i++) {
      const s = which[(start + i) % which.length]!;
      const got = await claimNext(deps, s.runnerId, { ...input, workspaceId: s.workspaceId });
      if (got) return got;
    }
    start++;
    return null;
  };
  const waitMs = Math.min(input.waitMs ?? 0, deps.config.maxClaimWaitMs);
  if (waitMs === 0) return tryScopes(scopes);
  const signal = untilStopped(deps, requestSignal);
  const deadline = Date.now() + waitMs;
  // Subscribe before the first try, so a request queued in between is not missed.
  const waiter = createWaiter(deps.notifier, [...new Set(scopes.map((s) => topics.queued(s.workspaceId)))]);
  try {
    let pending: readonly VerificationScope[] = scopes;
    for (;;) {
      const got = await tryScopes(pending);
      if (got) return got;
      const left = deadline - Date.now();
      if (left <= 0 || signal.aborted) return null;
      await waiter.wait(left, signal);
      if (signal.aborted) return null;
      const fired = waiter.takeFired();
      pending = scopes.filter((s) => fired.has(topics.queued(s.workspaceId)));
    }
  } finally {
    waiter.close();
  }
}

export interface VerificationLease {
  runId: string;
  verificationId: string;
  leaseToken: string;
}

const leaseLost = (id: string) =>
  conflict("LEASE_LOST", `the lease on verification ${id} is not held by this token (expired, reclaimed, cancelled or finished)`);

export async function heartbeatVerification(deps: Deps, input: VerificationLease) {
  const leaseExpiresAt = new Date(Date.now() + deps.config.leaseMs);
  const held = await deps.db.prisma.mergeVerification.updateMany({
    where: { id: input.verificationId, runId: input.runId, leaseToken: input.leaseToken, status: "claimed" },
    data: { leaseExpiresAt },
  });
  if (held.count === 0) throw leaseLost(input.verificationId);
  return { leaseExpiresAt };
}

export interface VerificationReportInput extends VerificationLease {
  baseCommit: string;
  branchCommit: string;
  head: string | null;
  conflict?: string[];
  setup: CheckRun | null;
  checks: CheckRun[];
  /** The runner could not make the integrated state or run the checks (no check result then). */
  error?: { message: string };
}

/**
 * The runner's report. The server decides, not the report's own word: every check of the
 * run must have a passing result (optional ones may fail), the setup script too, and the
 * report must be about the commits that were asked for. Then the merge finishes, is
 * refused, or — base or branch moved meanwhile — is verified again on the new commits.
 */
export async function completeVerification(deps: Deps, actor: string, input: VerificationReportInput): Promise<VerificationView> {
  const v = await deps.db.prisma.mergeVerification.findFirst({
    where: { id: input.verificationId, runId: input.runId, status: "claimed" },
    omit: { leaseToken: false },
  });
  if (!v || v.leaseToken !== input.leaseToken) throw leaseLost(input.verificationId);
  const run = await deps.db.prisma.run.findUniqueOrThrow({
    where: { id: v.runId },
    select: { boardId: true, dodItems: { where: { check: { not: null } }, select: { key: true, required: true } } },
  });
  const report = judge(input, run.dodItems);
  await appendEvent(
    deps,
    v.runId,
    run.boardId,
    "run.reverified",
    actor,
    reverifyPayload(report, { verificationId: v.id, attempt: v.attempt, error: input.error?.message ?? null }),
  );

  const finish = async (data: Prisma.MergeVerificationUpdateManyMutationInput) => {
    // Compare-and-swap on the lease: a cancel that came first wins — except over a merge
    // that has happened (what git did is the truth).
    const done = await deps.db.prisma.mergeVerification.updateMany({
      where: data.status === "merged" ? { id: v.id } : { id: v.id, leaseToken: v.leaseToken, status: "claimed" },
      data: { leaseToken: null, leaseExpiresAt: null, report: reverifyPayload(report), ...data },
    });
    if (done.count === 0) throw leaseLost(v.id);
  };
  if (input.error) {
    await finish({ status: "failed", finishedAt: new Date(), reason: "REVERIFY_FAILED", message: `re-verification could not run: ${input.error.message}` });
  } else if (report.baseCommit !== v.baseCommit || report.branchCommit !== v.branchCommit) {
    await finish({ status: "failed", finishedAt: new Date(), reason: "REVERIFY_FAILED", message: "the runner verified other commits than the ones asked for" });
  } else {
    // Still claimed (by this lease) while the merge is tried: a cancel cannot slip in between.
    let outcome: Awaited<ReturnType<typeof mergeVerified>>;
    try {
      outcome = await mergeVerified(deps, v, report);
    } catch (err) {
      // Not the report's fault (git or the database failed): refused, so that nobody waits on it; merging again retries.
      outcome = {
        kind: "refused",
        reason: "INVALID_STATE",
        message: `the merge failed after re-verification: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    if (outcome.kind === "merged") await finish({ status: "merged", finishedAt: new Date() });
    else if (outcome.kind === "refused") await finish({ status: "failed", finishedAt: new Date(), reason: outcome.reason, message: outcome.message });
    else if (v.attempt >= MAX_VERIFY_ATTEMPTS) {
      await finish({
        status: "failed",
        finishedAt: new Date(),
        reason: "BASE_MOVED",
        message: `the base or the branch moved during each of ${v.attempt} verifications; merge again`,
      });
    } else {
      // Verify again, on the commits as they are now.
      await finish({
        status: "queued",
        runnerId: null,
        claimedAt: null,
        attempt: v.attempt + 1,
        baseCommit: outcome.baseCommit,
        branchCommit: outcome.branchCommit,
      });
      await appendEvent(deps, v.runId, run.boardId, "run.reverify_requested", actor, {
        verificationId: v.id,
        baseCommit: outcome.baseCommit,
        branchCommit: outcome.branchCommit,
        attempt: v.attempt + 1,
        because: "moved",
      });
      await deps.notifier.publish(topics.queued(v.workspaceId));
    }
  }
  await publishRunChange(deps.notifier, v.runId, run.boardId);
  return verificationView(await deps.db.prisma.mergeVerification.findUniqueOrThrow({ where: { id: v.id } }));
}

function judge(input: VerificationReportInput, items: Array<{ key: string; required: boolean }>): ReverifyReport {
  const required = new Map(items.map((i) => [i.key, i.required]));
  // The run's own items decide what is required, not the report.
  const checks = input.checks.filter((c) => required.has(c.key)).map((c) => ({ ...c, required: required.get(c.key) ?? true }));
  const missing = items.filter((i) => i.required && !checks.some((c) => c.key === i.key));
  const setupOk = input.setup === null || input.setup.passed;
  const passed = !input.error && !input.conflict && setupOk && missing.length === 0 && checks.every((c) => c.passed || !c.required);
  return {
    passed,
    baseCommit: input.baseCommit,
    branchCommit: input.branchCommit,
    head: input.head,
    ...(input.conflict ? { conflict: input.conflict } : {}),
    setup: input.setup ? { ...input.setup, required: true } : null,
    checks,
  };
}

/** Cancels the run's waiting or running re-verification; the runner holding it stops at its next heartbeat. */
export async function cancelVerification(deps: Deps, actor: string, runId: string): Promise<VerificationView> {
  const open = await deps.db.prisma.mergeVerification.findFirst({ where: { runId, status: { in: ["queued", "claimed"] } }, orderBy: { createdAt: "desc" } });
  if (!open) throw conflict("NOT_CANCELLABLE", `run ${runId} has no re-verification waiting or running`);
  const done = await deps.db.prisma.mergeVerification.updateMany({
    where: { id: open.id, status: { in: ["queued", "claimed"] } },
    data: { status: "cancelled", leaseToken: null, leaseExpiresAt: null, finishedAt: new Date(), reason: "CANCELLED", message: `cancelled by ${actor}` },
  });
  if (done.count === 0) throw conflict("NOT_CANCELLABLE", `the re-verification of run ${runId} has just finished`);
  const run = await deps.db.prisma.run.findUnique({ where: { id: runId }, select: { boardId: true } });
  if (!run) throw notFound("run", runId);
  await appendEvent(deps, runId, run.boardId, "run.reverify_cancelled", actor, { verificationId: open.id });
  return verificationView(await deps.db.prisma.mergeVerification.findUniqueOrThrow({ where: { id: open.id } }));
}
