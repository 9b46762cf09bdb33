import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zId } from "../schemas.js";
import * as workflows from "../services/workflows.js";

export const workflowRouter = {
  /** The workspace's prompt templates, the default first (for the start-run form). */
  list: authedProcedure.input(z.object({ workspaceId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "viewer");
    return workflows.listWorkflows(ctx.deps, input.workspaceId);
  }),
} satisfies TRPCRouterRecord;
