import type { TRPCRouterRecord } from "@trpc/server";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { actorOf, identityOf } from "../auth/principal.js";
import { assertActiveCard } from "../services/archive.js";
import { authedProcedure } from "../trpc.js";
import { INT32_MAX, zEngine, zId, zInt32, zInt64, zLabels, zLeaseToken, zRunStatus, zStoredDate } from "../schemas.js";
import * as runs from "../services/runs.js";
import { planRun } from "../services/run-plan.js";
import * as runnerProtocol from "../services/runner-protocol.js";
import { followRunEvents } from "../services/streams.js";
import { mergeability, mergeRun } from "../services/merge.js";
import * as verifications from "../services/verifications.js";
import { abortRun } from "../services/abort.js";
import { runProvenance } from "../services/provenance.js";
import { allows } from "../auth/principal.js";
import * as approvals from "../services/approvals.js";
import * as thread from "../services/thread.js";
import * as fromBase from "../services/update-from-base.js";
import { zAgentProfileName } from "./agent-profile.js";

const MB = 1024 * 1024;

export const ZCreateRunInput = z.object({
  cardId: zId,
  prompt: z.string().min(1).max(200_000).optional(),
  workflowId: zId.optional(),
  engine: zEngine.optional(),
  model: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9._:@-]+$/, "invalid model name")
    .optional(),
  command: z.string().min(1).max(10_000).optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  labels: zLabels.optional(),
  maxTurns: z.number().int().min(1).max(1000).optional(),
  timeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(24 * 3600 * 1000)
    .optional(),
  budgetUsd: z.number().positive().max(100_000).optional(),
  maxAttempts: z.number().int().min(1).max(20).optional(),
  /** For engine `acp`: the agent profile (by name) to start. */
  agentProfile: zAgentProfileName.optional(),
});

const zLease = { runId: zId, leaseToken: zLeaseToken };
const zVerificationLease = { runId: zId, verificationId: zId, leaseToken: zLeaseToken };
/** One command of a re-verification, as a runner reports it. */
const zCheckRun = z.object({
  key: z.string().min(1).max(200),
  title: z.string().max(500),
  required: z.boolean(),
  command: z.string().max(20_000),
  exitCode: z.number().int().nullable(),
  passed: z.boolean(),
  timedOut: z.boolean(),
  durationMs: z.number().int().min(0).max(INT32_MAX),
  output: z.string().max(64 * 1024),
});
const zCommit = z.string().regex(/^[0-9a-f]{40,64}$/, "a full commit id");
/** A transcript beyond this is not kept (a follow-up then starts from the thread's summary). */
export const TRANSCRIPT_MAX_CHARS = 8 * MB;
const zModel = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._:@-]+$/, "invalid model name");

export const ZFollowUpInput = z.object({
  runId: zId,
  message: z.string().max(100_000),
  commentIds: z.array(zId).max(200).optional(),
  engine: zEngine.optional(),
  model: zModel.optional(),
  /** For engine `command`: the command the follow-up runs on the branch. */
  command: z.string().min(1).max(10_000).optional(),
});

/** What a tool call would do, as the runner shows it to the person who approves. */
export const ZApprovalSubject = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("command"),
    command: z
      .string()
      .min(1)
      .max(64 * 1024),
    truncated: z.boolean().optional(),
  }),
  z.object({
    kind: z.literal("write"),
    path: z.string().min(1).max(4096),
    action: z.enum(["create", "overwrite", "edit"]),
    preview: z.string().max(64 * 1024),
    truncated: z.boolean().optional(),
  }),
]);
const zToolName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, "invalid tool name");

const zEventType = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_.-]*$/, "lowercase dotted event type")
  // Only the server writes approvals: a runner must not be able to record an answer.
  .refine((t) => !t.startsWith("approval."), "approval.* events are written by the server")
  // Nor a person's message: user.* events name the person who wrote them.
  .refine((t) => !t.startsWith("user."), "user.* events are written by the server");
const zPayload = z.record(z.string(), z.json()).refine((p) => JSON.stringify(p).length <= 256 * 1024, "event payload is larger than 256 KiB");

export const ZCompleteInput = z.object({
  ...zLease,
  status: z.enum(["succeeded", "failed", "cancelled"]),
  output: z
    .object({
      summary: z.string().max(100_000).optional(),
      filesChanged: z.array(z.string().max(4096)).max(100_000).optional(),
      diff: z
        .string()
        .max(20 * MB)
        .optional(),
      diffHash: z.string().max(128).optional(),
      diffStat: z.object({ files: zInt64, additions: zInt64, deletions: zInt64 }).optional(),
      testsRun: z.boolean().optional(),
      testsPassed: z.boolean().optional(),
      testOutput: z.string().max(MB).optional(),
      logs: z
        .string()
        .max(5 * MB)
        .optional(),
      worktreePath: z.string().max(4096).optional(),
      headCommit: zCommit.optional(),
      /** The model the engine used; recorded when the run named none (the runner's default applied). */
      model: z.string().trim().min(1).max(200).optional(),
      sessionId: z
        .string()
        .min(1)
        .max(200)
        .regex(/^[A-Za-z0-9_.:-]+$/, "invalid session id")
        .optional(),
      transcript: z
        .array(z.json())
        .max(100_000)
        .refine((t) => JSON.stringify(t).length <= TRANSCRIPT_MAX_CHARS, `the transcript is larger than ${TRANSCRIPT_MAX_CHARS} characters`)
        .optional(),
    })
    .optional(),
  metrics: z
    .object({
      tokensIn: zInt64.optional(),
      tokensOut: zInt64.optional(),
      costUsd: z.number().nonnegative().max(1e12).optional(),
      toolCalls: zInt32.optional(),
      durationMs: zInt32.optional(),
    })
    .optional(),
  error: z
    .object({
      message: z.string().max(10_000),
      reason: z
        .string()
        .max(64)
        .regex(/^[a-z_]+$/)
        .optional(),
    })
    .optional(),
});

export const runRouter = {
  create: authedProcedure.input(ZCreateRunInput).mutation(async ({ ctx, input }) => {
    await ctx.authorize.card(input.cardId, "member");
    if (input.workflowId) await ctx.authorize.workflow(input.workflowId, "member");
    await assertActiveCard(ctx.deps, input.cardId);
    return runs.createRun(ctx.deps, actorOf(ctx.principal), input, identityOf(ctx.principal));
  }),

  /** What `create` with the same choices would send: the rendered prompt and settings. */
  previewPrompt: authedProcedure
    .input(ZCreateRunInput.pick({ cardId: true, workflowId: true, engine: true, model: true, command: true, agentProfile: true }))
    .query(async ({ ctx, input }) => {
      await ctx.authorize.card(input.cardId, "viewer");
      if (input.workflowId) await ctx.authorize.workflow(input.workflowId, "viewer");
      const plan = await planRun(ctx.deps, input);
      return {
        prompt: plan.prompt,
        engine: plan.engine,
        model: plan.model,
        command: plan.command,
        workflow: plan.workflow ? { id: plan.workflow.id, name: plan.workflow.name } : null,
        dod: plan.dod,
      };
    }),

  byId: authedProcedure.input(z.object({ runId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.runRead(input.runId);
    return runs.getRun(ctx.deps, input.runId);
  }),

  list: authedProcedure
    .input(
      z.object({
        workspaceId: zId,
        status: z.union([zRunStatus, z.array(zRunStatus).max(8)]).optional(),
        boardId: zId.optional(),
        cardId: zId.optional(),
        projectId: zId.optional(),
        engine: zEngine.optional(),
        createdBy: z.string().trim().min(1).max(320).optional(),
        since: zStoredDate.optional(),
        cursor: zId.optional(),
        limit: z.number().int().min(1).max(200).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      await ctx.authorize.workspace(input.workspaceId, "viewer");
      return runs.listRuns(ctx.deps, input);
    }),

  // ── The thread (docs/review-loop.md) ───────────────────────────────────────────────

  /** Sends the agent back to work on the thread's branch, the conversation kept: a queued run with parentRunId. */
  followUp: authedProcedure.input(ZFollowUpInput).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "member");
    return thread.followUp(ctx.deps, actorOf(ctx.principal), input);
  }),

  /** A message to the running agent, handed to it at its next turn; logged as `user.message` by its author. */
  sendMessage: authedProcedure.input(z.object({ runId: zId, text: z.string().trim().min(1).max(20_000) })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "member");
    return runs.sendMessage(ctx.deps, actorOf(ctx.principal), input);
  }),

  /** The run again, same settings unless changed: on its branch from where it started, or (freshBranch) a new thread from the base. */
  retry: authedProcedure
    .input(
      z.object({
        runId: zId,
        engine: zEngine.optional(),
        model: zModel.optional(),
        command: z.string().min(1).max(10_000).optional(),
        freshBranch: z.boolean().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.run(input.runId, "member");
      return thread.retryRun(ctx.deps, actorOf(ctx.principal), input);
    }),

  /** Merges the base branch into the thread's branch (clean: a new commit; conflicts: MERGE_CONFLICT with details.files, nothing changed). */
  updateFromBase: authedProcedure.input(z.object({ runId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "member");
    return fromBase.updateFromBase(ctx.deps, actorOf(ctx.principal), input);
  }),

  /** "Ask the agent to resolve": a follow-up whose runner starts the merge of the base and leaves the conflicts to the agent. */
  resolveConflicts: authedProcedure
    .input(z.object({ runId: zId, note: z.string().max(20_000).optional(), command: z.string().min(1).max(10_000).optional() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.run(input.runId, "member");
      return fromBase.resolveConflicts(ctx.deps, actorOf(ctx.principal), input);
    }),

  /** A card's threads: each run's status, kind, who asked for it and why, and the totals. */
  thread: authedProcedure.input(z.object({ cardId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.card(input.cardId, "viewer");
    return thread.cardThreads(ctx.deps, input.cardId);
  }),

  /** For the runner of a follow-up: where it starts, the parent's conversation, and a summary to seed a new one. */
  resumeContext: authedProcedure.input(z.object(zLease)).query(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "runner");
    return thread.resumeContext(ctx.deps, input);
  }),

  cancel: authedProcedure.input(z.object({ runId: zId, reason: z.string().max(1000).optional() })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "member");
    return runs.cancelRun(ctx.deps, actorOf(ctx.principal), input.runId, input.reason);
  }),

  // ── Approvals (docs/runner-protocol.md, "Approvals") ───────────────────────────────

  /** A person's answer to a pending request: `approval.granted` / `approval.denied`, naming them. */
  approve: authedProcedure
    .input(z.object({ runId: zId, requestId: zId, decision: z.enum(["approve", "deny"]), note: z.string().max(2000).optional() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.run(input.runId, "member");
      return approvals.answerApproval(ctx.deps, actorOf(ctx.principal), input);
    }),

  /** Every approval request of the run, answered or not, oldest first. */
  approvals: authedProcedure.input(z.object({ runId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.runRead(input.runId);
    return approvals.listApprovals(ctx.deps, input.runId);
  }),

  // ── Definition of Done, merge and abort (docs/dod-and-merge.md) ──────────────────────

  /**
   * Admin only. Gate: status succeeded and every required DoD item validated
   * (DOD_INCOMPLETE with details.missing); optional re-verification on the base merged in
   * (REVERIFY_FAILED); then `--no-ff` into the base branch (MERGE_CONFLICT with
   * details.files, nothing changed).
   */
  merge: authedProcedure.input(z.object({ runId: zId, reverify: z.boolean().optional(), cleanup: z.boolean().optional() })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "admin");
    return mergeRun(ctx.deps, actorOf(ctx.principal), { ...input, mergerId: identityOf(ctx.principal) });
  }),

  /** For the merge button: `canMerge` and every reason it cannot, as `run.merge` would answer. */
  mergeability: authedProcedure.input(z.object({ runId: zId })).query(async ({ ctx, input }) => {
    const workspaceId = await ctx.authorize.runRead(input.runId);
    return mergeability(ctx.deps, input.runId, {
      callerCanMerge: allows(ctx.principal, workspaceId, "admin"),
      callerCanAbort: allows(ctx.principal, workspaceId, "member"),
      callerId: identityOf(ctx.principal),
    });
  }),

  /** Throw the run's work away: cancel its agent, remove its worktree (force), delete its branch. */
  abort: authedProcedure.input(z.object({ runId: zId, reason: z.string().trim().min(1).max(1000).optional() })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "member");
    return abortRun(ctx.deps, actorOf(ctx.principal), input);
  }),

  /** Prompt, engine, model, diff hash, cost, and who created, merged, rejected or aborted it and why. */
  provenance: authedProcedure.input(z.object({ runId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.runRead(input.runId);
    return runProvenance(ctx.deps, input.runId);
  }),

  /** Events of a run after a sequence number (a page; use onEvents to follow live). */
  events: authedProcedure
    .input(z.object({ runId: zId, afterSeq: zInt32.optional(), limit: z.number().int().min(1).max(1000).optional() }))
    .query(async ({ ctx, input }) => {
      await ctx.authorize.runRead(input.runId);
      return runs.listRunEvents(ctx.deps, input);
    }),

  /** A page of events, latest first, and a cursor (`older`) for the page before it: a long run's log loads from the end. */
  eventsPage: authedProcedure
    .input(
      z.object({
        runId: zId,
        beforeSeq: zInt32.optional(),
        limit: z.number().int().min(1).max(500).optional(),
        types: z
          .array(
            z
              .string()
              .min(1)
              .max(64)
              .regex(/^[a-z][a-z0-9_.-]*(\.\*)?$/, "an event type, or a prefix ending in .*"),
          )
          .min(1)
          .max(20)
          .optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      await ctx.authorize.runRead(input.runId);
      return runs.runEventsPage(ctx.deps, input);
    }),

  /** Backfill, then follow; resume with the last event id (the run-local sequence). */
  onEvents: authedProcedure
    .input(z.object({ runId: zId, lastEventId: z.coerce.number().int().min(0).max(INT32_MAX).nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      await ctx.authorize.runRead(input.runId);
      for await (const event of followRunEvents(ctx.deps, input.runId, input.lastEventId ?? 0, signal)) {
        yield tracked(String(event.seq), event);
      }
    }),

  // ── The runner protocol (docs/runner-protocol.md) ──────────────────────────────────

  claim: authedProcedure
    .input(
      z
        .object({
          /** One scope (the original form): a workspace, optionally a board and labels. */
          workspaceId: zId.optional(),
          boardId: zId.optional(),
          labels: zLabels.optional(),
          runId: zId.optional(),
          runnerId: zId.optional(),
          /** Several scopes waited on with one long-poll; the claim is of one run, from whichever has one first. */
          scopes: z
            .array(z.object({ workspaceId: zId, runnerId: zId.optional(), boardId: zId.optional(), labels: zLabels.optional() }))
            .min(1)
            .max(runnerProtocol.MAX_CLAIM_SCOPES)
            .optional(),
          waitMs: z.number().int().min(0).max(25_000).optional(),
          /** False when the runner has no working sandbox: it is then given only runs of unconfined projects. */
          sandbox: z.boolean().optional(),
        })
        .superRefine((v, ctx) => {
          if ((v.workspaceId === undefined) === (v.scopes === undefined)) {
            ctx.addIssue({ code: "custom", path: ["workspaceId"], message: "give either workspaceId or scopes" });
          }
          if (v.scopes && (v.boardId || v.labels || v.runId || v.runnerId)) {
            ctx.addIssue({
              code: "custom",
              path: ["scopes"],
              message: "with scopes, boardId, labels and runnerId go in each scope; runId is for one workspace",
            });
          }
        }),
    )
    .mutation(async ({ ctx, input, signal }) => {
      const actor = actorOf(ctx.principal);
      if (input.scopes) {
        const scopes: runnerProtocol.ClaimScopeInput[] = [];
        for (const s of input.scopes) {
          await ctx.authorize.workspace(s.workspaceId, "runner");
          const runnerId = await ctx.runners.resolve(ctx.deps, ctx.principal, s.workspaceId, s.runnerId);
          void ctx.runners.touch(ctx.deps, runnerId).catch(() => undefined);
          scopes.push({ workspaceId: s.workspaceId, runnerId, boardId: s.boardId, labels: s.labels });
        }
        return runnerProtocol.claimAny(ctx.deps, actor, scopes, { waitMs: input.waitMs, sandbox: input.sandbox }, signal);
      }
      const workspaceId = input.workspaceId!;
      await ctx.authorize.workspace(workspaceId, "runner");
      const runnerId = await ctx.runners.resolve(ctx.deps, ctx.principal, workspaceId, input.runnerId);
      // An idle runner's only sign of life is its claim long-poll: the runners page shows it.
      void ctx.runners.touch(ctx.deps, runnerId).catch(() => undefined);
      return runnerProtocol.claimRun(ctx.deps, { runnerId, actor }, { ...input, workspaceId }, signal);
    }),

  start: authedProcedure
    .input(z.object({ ...zLease, worktreePath: z.string().max(4096).optional(), sizeBytes: zInt64.optional() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.run(input.runId, "runner");
      return runnerProtocol.startRun(ctx.deps, actorOf(ctx.principal), input);
    }),

  heartbeat: authedProcedure.input(z.object(zLease)).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "runner");
    return runnerProtocol.heartbeat(ctx.deps, input);
  }),

  appendEvents: authedProcedure
    .input(
      z.object({
        ...zLease,
        events: z
          .array(z.object({ type: zEventType, payload: zPayload.optional() }))
          .min(1)
          .max(500),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.run(input.runId, "runner");
      return runnerProtocol.appendEvents(ctx.deps, actorOf(ctx.principal), input);
    }),

  /**
   * Before a tool call its workflow's policy names: appends `approval.requested`; the answer
   * comes on `onEvents`. The runner picks the request id, so a retried call is harmless.
   */
  requestApproval: authedProcedure
    .input(z.object({ ...zLease, requestId: zId, tool: zToolName, subject: ZApprovalSubject }))
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.run(input.runId, "runner");
      return approvals.requestApproval(ctx.deps, actorOf(ctx.principal), input);
    }),

  /** No answer in time: the request expires (`approval.expired`); returns the request as it ended. */
  expireApproval: authedProcedure.input(z.object({ ...zLease, requestId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "runner");
    return approvals.expireApproval(ctx.deps, actorOf(ctx.principal), input);
  }),

  complete: authedProcedure.input(ZCompleteInput).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "runner");
    return runnerProtocol.completeRun(ctx.deps, actorOf(ctx.principal), input);
  }),

  // ── Re-verification at merge time: work a runner claims (docs/runner-protocol.md) ─────

  /** Long-polls for a merge's re-verification to run; null when none came within `waitMs`. */
  claimVerification: authedProcedure
    .input(
      z
        .object({
          workspaceId: zId.optional(),
          labels: zLabels.optional(),
          runnerId: zId.optional(),
          /** Several workspaces waited on with one long-poll, as with `run.claim`. */
          scopes: z
            .array(z.object({ workspaceId: zId, runnerId: zId.optional() }))
            .min(1)
            .max(runnerProtocol.MAX_CLAIM_SCOPES)
            .optional(),
          waitMs: z.number().int().min(0).max(25_000).optional(),
          sandbox: z.boolean().optional(),
        })
        .superRefine((v, ctx) => {
          if ((v.workspaceId === undefined) === (v.scopes === undefined)) {
            ctx.addIssue({ code: "custom", path: ["workspaceId"], message: "give either workspaceId or scopes" });
          }
          if (v.scopes && v.runnerId) ctx.addIssue({ code: "custom", path: ["scopes"], message: "with scopes, runnerId goes in each scope" });
        }),
    )
    .mutation(async ({ ctx, input, signal }) => {
      const asked = input.scopes ?? [{ workspaceId: input.workspaceId!, runnerId: input.runnerId }];
      const scopes: verifications.VerificationScope[] = [];
      for (const s of asked) {
        await ctx.authorize.workspace(s.workspaceId, "runner");
        scopes.push({ workspaceId: s.workspaceId, runnerId: await ctx.runners.resolve(ctx.deps, ctx.principal, s.workspaceId, s.runnerId) });
      }
      return verifications.claimVerificationAny(ctx.deps, scopes, { labels: input.labels, waitMs: input.waitMs, sandbox: input.sandbox }, signal);
    }),

  heartbeatVerification: authedProcedure.input(z.object(zVerificationLease)).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "runner");
    return verifications.heartbeatVerification(ctx.deps, input);
  }),

  /** The runner's report on the integrated state; the server finishes or refuses the merge. */
  completeVerification: authedProcedure
    .input(
      z.object({
        ...zVerificationLease,
        baseCommit: zCommit,
        branchCommit: zCommit,
        head: zCommit.nullable(),
        conflict: z.array(z.string().min(1).max(4096)).max(1000).optional(),
        setup: zCheckRun.nullable(),
        checks: z.array(zCheckRun).max(500),
        error: z.object({ message: z.string().max(4_000) }).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.run(input.runId, "runner");
      return verifications.completeVerification(ctx.deps, actorOf(ctx.principal), input);
    }),

  /** Stops a merge's re-verification that waits for a runner or runs (the merge does not happen). */
  cancelVerification: authedProcedure.input(z.object({ runId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "admin");
    return verifications.cancelVerification(ctx.deps, actorOf(ctx.principal), input.runId);
  }),
} satisfies TRPCRouterRecord;
