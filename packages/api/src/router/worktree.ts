import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { actorOf } from "../auth/principal.js";
import { authedProcedure } from "../trpc.js";
import { zId } from "../schemas.js";
import * as worktrees from "../services/worktrees.js";

export const worktreeRouter = {
  /** Every worktree of the workspace's runs: run, card, path, branch, state, created, size on disk. */
  list: authedProcedure.input(z.object({ workspaceId: zId, includeRemoved: z.boolean().optional() })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "viewer");
    return worktrees.listWorktrees(ctx.deps, input);
  }),

  /** Admin: frees a finished run's worktree (the branch stays). RUN_ACTIVE while the run is claimed or running. */
  remove: authedProcedure.input(z.object({ worktreeId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(await worktrees.runIdOfWorktree(ctx.deps, input.worktreeId), "admin");
    return worktrees.removeWorktreeById(ctx.deps, actorOf(ctx.principal), input.worktreeId);
  }),

  /** Runner: it removed this run's worktree on its machine (stale sweep); the record follows. */
  markRemoved: authedProcedure.input(z.object({ runId: zId, path: z.string().min(1).max(4096) })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "runner");
    return worktrees.markWorktreeRemoved(ctx.deps, actorOf(ctx.principal), input);
  }),
} satisfies TRPCRouterRecord;
