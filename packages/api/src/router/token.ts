import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zId, zName, zRole } from "../schemas.js";
import * as tokens from "../services/tokens.js";
import { forbidden } from "../errors.js";
import { roleIn } from "../auth/principal.js";

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
  /** Who am I: the caller's own role and workspace (for UIs and scripts); a person's roles by workspace. */
  whoami: authedProcedure.query(({ ctx }) => ({
    name: ctx.principal.name,
    role: ctx.principal.role,
    workspaceId: ctx.principal.workspaceId,
    kind: ctx.principal.kind,
    userId: ctx.principal.userId,
    serverAdmin: ctx.principal.serverAdmin,
    roles: ctx.principal.memberships ? Object.fromEntries(ctx.principal.memberships) : null,
  })),
  /**
   * A personal access token: it acts as the signed-in person, with at most `role` (and never
   * more than their role in a workspace), in every workspace they are in or only `workspaceId`.
   * The secret is in the answer once.
   */
  createPersonal: authedProcedure
    .input(z.object({ name: zName, role: z.enum(["admin", "member", "viewer"]), workspaceId: zId.optional() }))
    .mutation(async ({ ctx, input }) => {
      const p = ctx.principal;
      if (p.kind !== "session" || !p.userId) throw forbidden("personal tokens are made by a signed-in person");
      if (input.workspaceId && roleIn(p, input.workspaceId) === null) await ctx.authorize.workspace(input.workspaceId, "viewer");
      return tokens.createPersonalToken(ctx.deps, p.userId, input);
    }),
  /** The caller's own personal tokens, with their last use. */
  listPersonal: authedProcedure.query(({ ctx }) => {
    if (!ctx.principal.userId) return [];
    return tokens.listPersonalTokens(ctx.deps, ctx.principal.userId);
  }),
} satisfies TRPCRouterRecord;
