import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { actorOf, allows } from "../auth/principal.js";
import { authedProcedure } from "../trpc.js";
import { zId } from "../schemas.js";
import * as review from "../services/review.js";

/** A path as a diff names it: relative, no `..`, no NUL. It only ever selects a section of a stored diff. */
const zDiffPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes("\0") && !p.startsWith("/") && !p.split("/").includes(".."), "a relative path inside the repository");

const zLine = z.number().int().min(1).max(10_000_000);

export const ZReviewCommentInput = z
  .object({
    runId: zId,
    path: zDiffPath,
    line: zLine,
    /** The last line of a range (same side as `line`); absent for a one-line comment. */
    endLine: zLine.optional(),
    side: z.enum(["old", "new"]).default("new"),
    body: z.string().trim().min(1).max(20_000),
  })
  .superRefine((v, ctx) => {
    if (v.endLine === undefined) return;
    if (v.endLine < v.line) ctx.addIssue({ code: "custom", path: ["endLine"], message: "endLine must be at least line" });
    else if (v.endLine - v.line + 1 > review.MAX_RANGE_LINES)
      ctx.addIssue({ code: "custom", path: ["endLine"], message: `a comment covers at most ${review.MAX_RANGE_LINES} lines` });
  });

export const reviewRouter = {
  /** A comment on one line, or a range of lines (`endLine`), of the run's diff (member). */
  comment: authedProcedure.input(ZReviewCommentInput).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "member");
    return review.addComment(ctx.deps, actorOf(ctx.principal), input);
  }),

  /** The thread's comments, placed on this run's diff (outdated where their line is gone). */
  list: authedProcedure.input(z.object({ runId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.runRead(input.runId);
    return review.listComments(ctx.deps, input.runId);
  }),

  resolve: authedProcedure.input(z.object({ commentId: zId, resolved: z.boolean().optional() })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(await review.commentRunId(ctx.deps, input.commentId), "member");
    return review.resolveComment(ctx.deps, actorOf(ctx.principal), input);
  }),

  /** Its author or an admin. */
  delete: authedProcedure.input(z.object({ commentId: zId })).mutation(async ({ ctx, input }) => {
    const workspaceId = await ctx.authorize.run(await review.commentRunId(ctx.deps, input.commentId), "member");
    const isAdmin = allows(ctx.principal, workspaceId, "admin");
    return review.deleteComment(ctx.deps, actorOf(ctx.principal), isAdmin, input.commentId);
  }),
} satisfies TRPCRouterRecord;
