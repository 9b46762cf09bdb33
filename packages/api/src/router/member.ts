import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { authedProcedure, publicProcedure } from "../trpc.js";
import { zId } from "../schemas.js";
import { actorOf } from "../auth/principal.js";
import * as members from "../services/members.js";
import { forbidden } from "../errors.js";

export const zMemberRole = z.enum(["admin", "member", "viewer"]);
const zCode = z
  .string()
  .min(10)
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/, "invalid code");

export const memberRouter = {
  /** A workspace's people and their roles (everyone in it may see who else is). */
  list: authedProcedure.input(z.object({ workspaceId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "viewer");
    return members.listMembers(ctx.deps, input.workspaceId);
  }),
  changeRole: authedProcedure.input(z.object({ workspaceId: zId, userId: zId, role: zMemberRole })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "admin");
    return members.changeRole(ctx.deps, input);
  }),
  remove: authedProcedure.input(z.object({ workspaceId: zId, userId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "admin");
    return members.removeMember(ctx.deps, input);
  }),
} satisfies TRPCRouterRecord;

export const invitationRouter = {
  /** The link's secret is in the answer once (`code`, `path`: `/invite#code=…`); mailed to `email` when SMTP is configured (`emailed`). */
  create: authedProcedure
    .input(z.object({ workspaceId: zId, role: zMemberRole, email: z.email().max(254).optional(), days: z.number().int().min(1).max(90).optional() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.workspace(input.workspaceId, "admin");
      return members.createInvitation(ctx.deps, actorOf(ctx.principal), input);
    }),
  list: authedProcedure.input(z.object({ workspaceId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "admin");
    return members.listInvitations(ctx.deps, input.workspaceId);
  }),
  revoke: authedProcedure.input(z.object({ invitationId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.workspace(await members.invitationWorkspace(ctx.deps, input.invitationId), "admin");
    return members.revokeInvitation(ctx.deps, input.invitationId);
  }),
  /** What a link offers, before signing up or in: knowing the code is the permission. */
  preview: publicProcedure.input(z.object({ code: zCode })).query(({ ctx, input }) => members.previewInvitation(ctx.deps, input.code)),
  /** A signed-in person joins the link's workspace. */
  accept: authedProcedure.input(z.object({ code: zCode })).mutation(({ ctx, input }) => {
    if (ctx.principal.kind !== "session" || !ctx.principal.userId) throw forbidden("sign in to the board to accept an invitation");
    return members.acceptInvitation(ctx.deps, { code: input.code, userId: ctx.principal.userId, email: ctx.principal.name });
  }),
} satisfies TRPCRouterRecord;
