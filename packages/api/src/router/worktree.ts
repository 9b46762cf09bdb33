import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zId } from "../schemas.js";
import * as worktrees from "../services/worktrees.js";

export const worktreeRouter = {
  list: authedProcedure.input(z.object({ workspaceId: zId, includeRemoved: z.boolean().optional() })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "viewer");
    return worktrees.listWorktrees(ctx.deps, input);
  }),
} satisfies TRPCRouterRecord;
