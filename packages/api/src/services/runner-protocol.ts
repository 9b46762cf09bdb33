import { randomUUID } from "node:crypto";
import { RowLockedError, type Claimed, type Prisma } from "@agentboard/db";
import { untilStopped, type Deps } from "./deps.js";
import { badRequest, conflict, notFound } from "../errors.js";
import { createWaiter, publishRunChange, topics } from "../infra/notifier.js";
import { claimNextBatched } from "./claim-batcher.js";
import { rememberEvents } from "./streams.js";
import { transition } from "./run-events.js";
import { ACTIVE_STATUSES } from "./runs.js";
import { releaseCardAfterRun } from "./card-column.js";
import { assertCardBudget } from "./card-budget.js";
import { claimLabels, SANDBOX_LABEL } from "@agentboard/sandbox/policy";
import { INT32_MAX } from "../schemas.js";

/**
 * The runner side of the run lifecycle: claim → start → heartbeat/appendEvents → complete.
 * Every call after the claim carries the lease token; a stale token changes nothing and
 * answers CONFLICT/LEASE_LOST (the fencing that keeps a reclaimed runner's writes out).
 */

export interface ClaimInput {
  workspaceId: string;
  boardId?: string;
  labels?: string[];
  runId?: string;
  waitMs?: number;
  /** The claimant confines what it runs (default). False: only runs of unconfined projects. */
  sandbox?: boolean;
}

export interface Claimant {
  runnerId: string;
  actor: string;
}

/**
 * A claim: the run, its lease token, its project (what the runner needs to prepare the
 * worktree: the repository, setup, tests, hooks) and the Definition-of-Done items that
 * carry an automatic check.
 */
export interface Claim extends Claimed {
  leaseToken: string;
}

const newLeaseToken = () => randomUUID();

export async function claimRun(deps: Deps, who: Claimant, input: ClaimInput, requestSignal?: AbortSignal): Promise<Claim | null> {
  const leaseMs = deps.config.leaseMs;
  const event = { actor: who.actor, payload: { runnerId: who.runnerId } };

  const hasSandbox = input.sandbox !== false;
  if (input.runId) {
    if (!hasSandbox) {
      const wanted = await deps.db.prisma.run.findUnique({ where: { id: input.runId }, select: { labels: true, workspaceId: true } });
      if (wanted && wanted.workspaceId === input.workspaceId && Array.isArray(wanted.labels) && wanted.labels.includes(SANDBOX_LABEL)) {
        throw conflict("SANDBOX_REQUIRED", `run ${input.runId} belongs to a project that requires a sandbox, which this runner does not have`);
      }
    }
    // The card's budget, as the queue's SQL checks it for the next run.
    const target = await deps.db.prisma.run.findUnique({ where: { id: input.runId }, select: { cardId: true, workspaceId: true, status: true } });
    if (target && target.workspaceId === input.workspaceId && target.status === "queued") await assertCardBudget(deps, target.cardId);
    const leaseToken = newLeaseToken();
    let got: Claimed | null;
    try {
      got = await deps.db.sql.claimById({ runId: input.runId, workspaceId: input.workspaceId, runnerId: who.runnerId, leaseToken, leaseMs, event });
    } catch (err) {
      if (err instanceof RowLockedError) throw conflict("RUN_LOCKED", `run ${input.runId} is being claimed right now; retry`, { retryable: true });
      throw err;
    }
    if (got) return claimed(deps, got, leaseToken);
    // The one read of a lease token outside the queue's SQL: the holder gets its own back.
    const run = await deps.db.prisma.run.findUnique({ where: { id: input.runId }, omit: { leaseToken: false } });
    if (!run || run.workspaceId !== input.workspaceId) throw notFound("run", input.runId);
    const held = (ACTIVE_STATUSES as readonly string[]).includes(run.status);
    // Idempotent for the same runner: it gets its own lease back.
    if (held && run.runnerId === who.runnerId && run.leaseToken) return claimed(deps, await loadClaim(deps, run.id), run.leaseToken);
    if (held) throw conflict("ALREADY_CLAIMED", `run ${run.id} is already claimed by another runner`, { status: run.status });
    throw conflict("NOT_CLAIMABLE", `run ${run.id} is ${run.status}`, { status: run.status });
  }

  const scope: ClaimScopeInput = { workspaceId: input.workspaceId, runnerId: who.runnerId, boardId: input.boardId, labels: input.labels };
  return claimAny(deps, who.actor, [scope], { waitMs: input.waitMs, sandbox: input.sandbox }, requestSignal);
}

/** One scope of a multi-scope claim: a workspace (the runner record claiming there), optionally a board and labels. */
export interface ClaimScopeInput {
  workspaceId: string;
  runnerId: string;
  boardId?: string;
  labels?: string[];
}

/** The most scopes one claim may wait on. */
export const MAX_CLAIM_SCOPES = 500;

/**
 * Claims the next eligible run of any of `scopes` (at most one run): tries each scope, and
 * with `waitMs` waits on all of them at once, trying again the scopes an enqueue was
 * announced for the moment it is. Each try is the one-run atomic claim, so no run goes to
 * two claimants, and no claimant gets two runs.
 */
export async function claimAny(
  deps: Deps,
  actor: string,
  scopes: readonly ClaimScopeInput[],
  opts: { waitMs?: number; sandbox?: boolean },
  requestSignal?: AbortSignal,
): Promise<Claim | null> {
  const leaseMs = deps.config.leaseMs;
  const hasSandbox = opts.sandbox !== false;
  // The claim statement offers each claimant its runner's own follow-ups first (the queue SQL).
  const tryScope = async (s: ClaimScopeInput): Promise<Claim | null> => {
    const leaseToken = newLeaseToken();
    const got = await claimNextBatched(
      deps.db.sql,
      { workspaceId: s.workspaceId, boardId: s.boardId ?? null, labels: claimLabels(s.labels ?? [], hasSandbox), leaseMs },
      { runnerId: s.runnerId, leaseToken, event: { actor, payload: { runnerId: s.runnerId } } },
    );
    return got && claimed(deps, got, leaseToken);
  };
  // Where a round starts turns, so that a busy first scope does not starve the others.
  let start = Math.floor(Math.random() * scopes.length);
  const tryScopes = async (all: readonly ClaimScopeInput[]): Promise<Claim | null> => {
    // Over many scopes, one question first: which of their workspaces has anything queued.
    // An idle runner serving twenty workspaces then asks once, not forty times, before it
    // waits. (A run queued after the answer wakes the wait below, as one queued before it.)
    let which = all;
    if (all.length > 1) {
      const queued = await deps.db.sql.queuedWorkspaces([...new Set(all.map((s) => s.workspaceId))]);
      which = all.filter((s) => queued.has(s.workspaceId));
    }
    for (let i = 0; i < which.length; i++) {
      const got = await tryScope(which[(start + i) % which.length]!);
      if (got) return got;
    }
    start++;
    return null;
  };
  const waitMs = Math.min(opts.waitMs ?? 0, deps.config.maxClaimWaitMs);
  if (waitMs === 0) return tryScopes(scopes);

  // Long-poll: subscribe before the first try, so an enqueue in between is not missed.
  const signal = untilStopped(deps, requestSignal);
  const deadline = Date.now() + waitMs;
  const workspaces = [...new Set(scopes.map((s) => s.workspaceId))];
  const waiter = createWaiter(
    deps.notifier,
    workspaces.map((w) => topics.queued(w)),
  );
  try {
    let pending: readonly ClaimScopeInput[] = scopes;
    for (;;) {
      const got = await tryScopes(pending);
      if (got) return got;
      const left = deadline - Date.now();
      if (left <= 0 || signal.aborted) return null;
      await waiter.wait(left, signal);
      if (signal.aborted) return null;
      const fired = waiter.takeFired();
      // Woken by an enqueue: only the scopes of the workspaces it was in.
      pending = scopes.filter((s) => fired.has(topics.queued(s.workspaceId)));
    }
  } finally {
    waiter.close();
  }
}

function claimed(deps: Deps, got: Claimed, leaseToken: string): Claim {
  void deps.notifier.publish(topics.board(got.run.boardId)).catch(() => undefined);
  return { ...got, leaseToken };
}

/** What a claim returns, for a run already held (the idempotent re-claim). */
async function loadClaim(deps: Deps, runId: string): Promise<Claimed> {
  const { project, dodItems, ...run } = await deps.db.prisma.run.findUniqueOrThrow({
    where: { id: runId },
    include: {
      project: true,
      dodItems: {
        where: { check: { not: null } },
        orderBy: { position: "asc" },
        select: { id: true, key: true, title: true, check: true, autoValidate: true, required: true },
      },
    },
  });
  return { run, project, checks: dodItems };
}

export interface LeaseInput {
  runId: string;
  leaseToken: string;
}

function leaseLost(runId: string) {
  return conflict("LEASE_LOST", `the lease on run ${runId} is not held by this token (expired, reclaimed or finished)`);
}

export async function startRun(deps: Deps, actor: string, input: LeaseInput & { worktreePath?: string; sizeBytes?: number }) {
  const now = new Date();
  const holder = await deps.db.prisma.run.findUnique({ where: { id: input.runId }, select: { runnerId: true } });
  const result = await deps.db.prisma.$transaction(async (tx) => {
    const run = await transition(
      tx,
      input.runId,
      { leaseToken: input.leaseToken, status: "claimed" },
      { status: "running", startedAt: now, worktreePath: input.worktreePath ?? undefined },
      [{ type: "run.started", actor, payload: { runnerId: holder?.runnerId ?? null, worktreePath: input.worktreePath ?? null } }],
    );
    if (run) {
      await tx.card.updateMany({ where: { id: run.cardId, column: { in: ["backlog", "todo"] } }, data: { column: "in_progress" } });
      if (input.worktreePath) {
        await tx.worktree.create({
          data: {
            runId: run.id,
            projectId: run.projectId,
            runnerId: run.runnerId,
            path: input.worktreePath,
            branch: run.branch,
            sizeBytes: input.sizeBytes ?? null,
          },
        });
      }
    }
    return run;
  });
  if (!result) {
    // A repeated start by the lease holder is harmless.
    const held = await deps.db.prisma.run.count({ where: { id: input.runId, status: "running", leaseToken: input.leaseToken } });
    if (held === 0) throw leaseLost(input.runId);
  }
  const lease = await deps.db.sql.extendLease({ runId: input.runId, leaseToken: input.leaseToken, leaseMs: deps.config.leaseMs });
  if (!lease) throw leaseLost(input.runId);
  const run = await deps.db.prisma.run.findUniqueOrThrow({ where: { id: input.runId } });
  await publishRunChange(deps.notifier, run.id, run.boardId);
  return { run, ...lease };
}

export async function heartbeat(deps: Deps, input: LeaseInput) {
  const lease = await deps.db.sql.extendLease({ runId: input.runId, leaseToken: input.leaseToken, leaseMs: deps.config.leaseMs });
  if (!lease) throw leaseLost(input.runId);
  return lease;
}

export interface IncomingEvent {
  type: string;
  payload?: Prisma.InputJsonValue;
}

/** The streaming hot path: one dialect statement does what `transition()` would. */
export async function appendEvents(deps: Deps, actor: string, input: LeaseInput & { events: IncomingEvent[] }) {
  const done = await deps.db.sql.appendEvents({
    runId: input.runId,
    leaseToken: input.leaseToken,
    actor,
    events: input.events.map((e) => ({ type: e.type, payload: e.payload ?? {} })),
  });
  if (!done) throw leaseLost(input.runId);
  rememberEvents(deps, input.runId, done.events);
  await deps.notifier.publish(topics.run(input.runId));
  return { lastSeq: done.lastSeq, appended: input.events.length };
}

export interface CompleteInput extends LeaseInput {
  status: "succeeded" | "failed" | "cancelled";
  output?: {
    summary?: string;
    filesChanged?: string[];
    diff?: string;
    diffHash?: string;
    diffStat?: { files: number; additions: number; deletions: number };
    testsRun?: boolean;
    testsPassed?: boolean;
    testOutput?: string;
    logs?: string;
    worktreePath?: string;
    /** The branch tip after the run. */
    headCommit?: string;
    /** Claude Code's session id. */
    sessionId?: string;
    /** The model the engine used: kept when the run named none. */
    model?: string;
    /** The engine's conversation (anthropic: Messages API messages), for a follow-up to resume. */
    transcript?: ReadonlyArray<Prisma.InputJsonValue | null>;
  };
  metrics?: { tokensIn?: number; tokensOut?: number; costUsd?: number; toolCalls?: number; durationMs?: number };
  error?: { message: string; reason?: string };
}

export async function completeRun(deps: Deps, actor: string, input: CompleteInput) {
  const current = await deps.db.prisma.run.findUnique({ where: { id: input.runId } });
  if (!current) throw notFound("run", input.runId);
  if (input.status === "cancelled" && !current.cancelRequestedAt) {
    throw badRequest("a run can be reported cancelled only after a cancel was requested", "status");
  }
  const now = new Date();
  const o = input.output ?? {};
  const m = input.metrics ?? {};
  const durationMs = m.durationMs ?? (current.startedAt ? Math.min(INT32_MAX, now.getTime() - current.startedAt.getTime()) : null);
  const run = await deps.db.prisma.$transaction(async (tx) => {
    const done = await transition(
      tx,
      input.runId,
      { leaseToken: input.leaseToken, status: { in: [...ACTIVE_STATUSES] } },
      {
        status: input.status,
        finishedAt: now,
        leaseExpiresAt: null,
        summary: o.summary,
        filesChanged: o.filesChanged,
        diff: o.diff,
        diffHash: o.diffHash,
        diffStat: o.diffStat,
        testsRun: o.testsRun,
        testsPassed: o.testsPassed,
        testOutput: o.testOutput,
        logs: o.logs,
        worktreePath: o.worktreePath,
        headCommit: o.headCommit,
        sessionId: o.sessionId,
        // A run that named no model records the default that applied; a named one stays.
        ...(o.model && !current.model ? { model: o.model } : {}),
        tokensIn: m.tokensIn ?? 0,
        tokensOut: m.tokensOut ?? 0,
        costUsd: m.costUsd ?? 0,
        toolCalls: m.toolCalls ?? 0,
        durationMs,
        error: input.error?.message ?? null,
        errorReason: input.error?.reason ?? (input.status === "failed" ? "engine_error" : null),
      },
      [
        {
          type: `run.${input.status}`,
          actor,
          payload: {
            summary: o.summary ?? null,
            error: input.error ?? null,
            metrics: { tokensIn: m.tokensIn ?? 0, tokensOut: m.tokensOut ?? 0, costUsd: m.costUsd ?? 0, toolCalls: m.toolCalls ?? 0, durationMs },
            filesChanged: o.filesChanged?.length ?? 0,
          },
        },
      ],
    );
    if (!done) return null;
    if (o.transcript) {
      const chars = JSON.stringify(o.transcript).length;
      await tx.runTranscript.upsert({
        where: { runId: done.id },
        create: { runId: done.id, engine: done.engine, messages: o.transcript, chars },
        update: { engine: done.engine, messages: o.transcript, chars },
      });
    }
    // What the runner reported during the run (its checks) was for this head.
    if (o.headCommit) await tx.dodEvidence.updateMany({ where: { runId: done.id, commit: null }, data: { commit: o.headCommit } });
    if (m.costUsd) await tx.workspace.update({ where: { id: done.workspaceId }, data: { spentUsd: { increment: m.costUsd } } });
    if (input.status === "succeeded") {
      await tx.card.updateMany({ where: { id: done.cardId, column: { in: ["backlog", "todo", "in_progress"] } }, data: { column: "in_review" } });
    } else {
      await releaseCardAfterRun(tx, done);
    }
    return done;
  });
  if (!run) {
    // The same report again (its first answer was lost): it was accepted, say so again.
    const repeated = await deps.db.prisma.run.findFirst({ where: { id: input.runId, leaseToken: input.leaseToken, status: input.status } });
    if (repeated) return repeated;
    throw leaseLost(input.runId);
  }
  await publishRunChange(deps.notifier, run.id, run.boardId);
  return run;
}
