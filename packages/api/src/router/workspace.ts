import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zId, zName, zSlug } from "../schemas.js";
import * as workspaces from "../services/workspaces.js";

export const ZCreateWorkspaceInput = z.object({ name: zName, slug: zSlug, budgetUsd: z.number().nonnegative().nullish() });

export const workspaceRouter = {
  create: authedProcedure.input(ZCreateWorkspaceInput).mutation(({ ctx, input }) => {
    ctx.authorize.globalAdmin();
    return workspaces.createWorkspace(ctx.deps, input, ctx.principal.userId);
  }),
  list: authedProcedure.query(({ ctx }) => workspaces.listWorkspaces(ctx.deps, ctx.principal)),
  byId: authedProcedure.input(z.object({ workspaceId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "viewer");
    return workspaces.getWorkspace(ctx.deps, input.workspaceId);
  }),
  update: authedProcedure
    .input(z.object({ workspaceId: zId, name: zName.optional(), budgetUsd: z.number().nonnegative().nullish() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.workspace(input.workspaceId, "admin");
      return workspaces.updateWorkspace(ctx.deps, input);
    }),
} satisfies TRPCRouterRecord;
