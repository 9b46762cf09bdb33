import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zId, zName, zRole } from "../schemas.js";
import * as tokens from "../services/tokens.js";

export const tokenRouter = {
  /** The secret is in the answer once and never again. */
  create: authedProcedure.input(z.object({ workspaceId: zId, role: zRole, name: zName })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "admin");
    return tokens.createToken(ctx.deps, input);
  }),
  /** A workspace's tokens; without `workspaceId`, the server's own (the server's admin only). */
  list: authedProcedure.input(z.object({ workspaceId: zId.optional() })).query(async ({ ctx, input }) => {
    if (input.workspaceId) await ctx.authorize.workspace(input.workspaceId, "admin");
    else ctx.authorize.globalAdmin();
    return tokens.listTokens(ctx.deps, input.workspaceId ?? null);
  }),
  revoke: authedProcedure.input(z.object({ tokenId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.token(input.tokenId, "admin");
    return tokens.revokeToken(ctx.deps, input.tokenId, ctx.tokens);
  }),
  /** Who am I: the caller's own role and workspace (for UIs and scripts). */
  whoami: authedProcedure.query(({ ctx }) => ({
    name: ctx.principal.name,
    role: ctx.principal.role,
    workspaceId: ctx.principal.workspaceId,
  })),
} satisfies TRPCRouterRecord;
