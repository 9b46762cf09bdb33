import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zApprovalPolicy, zApprovalTimeoutMs, zEngine, zId, zName, zShellCommand } from "../schemas.js";
import * as workflows from "../services/workflows.js";
import { notFound } from "../errors.js";

/**
 * A DoD item key: it names the item in evidence calls (`itemKey`), in events and in the
 * UI, so it is kept to a small alphabet that is safe in URLs, logs and file listings.
 */
export const zDodKey = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, "lowercase letters, digits and _ . - (starting with a letter or digit)");
export const zDodTitle = z.string().trim().min(1).max(200);

export const ZDodSpec = z
  .object({
    key: zDodKey,
    title: zDodTitle,
    required: z.boolean().default(true),
    /** Run by the runner in the worktree after the agent, and again by a re-verifying merge. */
    check: zShellCommand.nullish(),
    /** A passing check validates the item without a person. */
    autoValidate: z.boolean().default(false),
    /** A validation given on an older head keeps counting once the branch moves (a follow-up, an update from the base). */
    carryOver: z.boolean().default(false),
  })
  .refine((d) => !d.autoValidate || !!d.check, { message: "autoValidate needs a check command", path: ["autoValidate"] });

export const ZDodSchema = z
  .array(ZDodSpec)
  .max(50)
  .superRefine((items, ctx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.key)) ctx.addIssue({ code: "custom", message: `duplicate key "${item.key}"`, path: [i, "key"] });
      seen.add(item.key);
    });
  });

const zModel = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._:@-]+$/, "invalid model name");

export const ZCreateWorkflowInput = z.object({
  workspaceId: zId,
  name: zName,
  /** `{{card.title}}`, `{{card.description}}`, `{{card.id}}`, `{{project.name}}`, `{{project.baseBranch}}`, `{{project.testCommand}}`. */
  promptTemplate: z.string().min(1).max(200_000),
  engine: zEngine.default("anthropic"),
  model: zModel.nullish(),
  command: zShellCommand.nullish(),
  maxTurns: z.number().int().min(1).max(1000).nullish(),
  timeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(24 * 3600 * 1000)
    .nullish(),
  budgetUsd: z.number().positive().max(100_000).nullish(),
  dod: ZDodSchema.default([]),
  isDefault: z.boolean().optional(),
  /** Which tool calls wait for a person: shell commands, or commands and file writes. */
  approval: zApprovalPolicy.default("none"),
  /** How long a request waits before it counts as denied (default 10 minutes). */
  approvalTimeoutMs: zApprovalTimeoutMs.nullish(),
  /** Four eyes: the requester does not validate required items, the merger is not the only reviewer. */
  requireIndependentReview: z.boolean().optional(),
});

export const ZUpdateWorkflowInput = z.object({
  workflowId: zId,
  name: zName.optional(),
  promptTemplate: z.string().min(1).max(200_000).optional(),
  engine: zEngine.optional(),
  model: zModel.nullish(),
  command: zShellCommand.nullish(),
  maxTurns: z.number().int().min(1).max(1000).nullish(),
  timeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(24 * 3600 * 1000)
    .nullish(),
  budgetUsd: z.number().positive().max(100_000).nullish(),
  dod: ZDodSchema.optional(),
  isDefault: z.boolean().optional(),
  approval: zApprovalPolicy.optional(),
  approvalTimeoutMs: zApprovalTimeoutMs.nullish(),
  requireIndependentReview: z.boolean().optional(),
});

export const workflowRouter = {
  /**
   * Admins only: a workflow's checks are shell commands that runners run, and that a
   * re-verifying merge runs on the server itself.
   */
  create: authedProcedure.input(ZCreateWorkflowInput).mutation(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "admin");
    return workflows.viewWorkflow(await workflows.createWorkflow(ctx.deps, input));
  }),

  update: authedProcedure.input(ZUpdateWorkflowInput).mutation(async ({ ctx, input }) => {
    await ctx.authorize.workflow(input.workflowId, "admin");
    return workflows.viewWorkflow(await workflows.updateWorkflow(ctx.deps, input));
  }),

  /** The workspace's prompt templates, the default first (for the start-run form); with `archived`, the archived ones. */
  list: authedProcedure.input(z.object({ workspaceId: zId, archived: z.boolean().optional() })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "viewer");
    return workflows.listWorkflows(ctx.deps, input.workspaceId, { archived: input.archived });
  }),

  /** Off the lists for new runs (its runs keep their copy); not the default. */
  archive: authedProcedure.input(z.object({ workflowId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.workflow(input.workflowId, "admin");
    return workflows.viewWorkflow(await workflows.archiveWorkflow(ctx.deps, input.workflowId));
  }),

  restore: authedProcedure.input(z.object({ workflowId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.workflow(input.workflowId, "admin");
    return workflows.viewWorkflow(await workflows.restoreWorkflow(ctx.deps, input.workflowId));
  }),

  /** A template being edited, rendered against a card of the workspace: the editor's live preview. */
  previewTemplate: authedProcedure.input(z.object({ workspaceId: zId, cardId: zId, promptTemplate: z.string().max(200_000) })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "admin");
    if ((await ctx.authorize.card(input.cardId, "viewer")) !== input.workspaceId) throw notFound("card", input.cardId);
    return workflows.previewTemplate(ctx.deps, input);
  }),

  byId: authedProcedure.input(z.object({ workflowId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.workflow(input.workflowId, "viewer");
    return workflows.viewWorkflow(await workflows.getWorkflow(ctx.deps, input.workflowId));
  }),
} satisfies TRPCRouterRecord;
