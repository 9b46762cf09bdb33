import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zId } from "../schemas.js";
import * as profiles from "../services/agent-profiles.js";

const noNul = (s: string) => !s.includes("\0");
export const zAgentProfileName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, "lowercase letters, digits and _ . - (starting with a letter or digit)");
const zProgram = z
  .string()
  .trim()
  .min(1)
  .max(1024)
  .refine((s) => noNul(s) && !/[\r\n]/.test(s), "one line, no NUL");
const zArgs = z.array(z.string().max(4096).refine(noNul, "no NUL")).max(64);
const zEnv = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name")
      .max(128),
    z.string().max(4096).refine(noNul, "no NUL"),
  )
  .refine((e) => Object.keys(e).length <= 64, "at most 64 variables");
const zPermissions = z.enum(["allow", "deny"]);

const fields = { name: zAgentProfileName, command: zProgram, args: zArgs, env: zEnv, permissions: zPermissions };

/**
 * Agent profiles for the `acp` engine. Admins only may write them: a profile names a program
 * that runners start for every run that uses it.
 */
export const agentProfileRouter = {
  create: authedProcedure
    .input(z.object({ workspaceId: zId, ...fields, args: zArgs.optional(), env: zEnv.optional(), permissions: zPermissions.optional() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.workspace(input.workspaceId, "admin");
      return profiles.createAgentProfile(ctx.deps, input);
    }),
  update: authedProcedure.input(z.object({ profileId: zId, ...z.object(fields).partial().shape })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.agentProfile(input.profileId, "admin");
    return profiles.updateAgentProfile(ctx.deps, input);
  }),
  delete: authedProcedure.input(z.object({ profileId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.agentProfile(input.profileId, "admin");
    return profiles.deleteAgentProfile(ctx.deps, input.profileId);
  }),
  list: authedProcedure.input(z.object({ workspaceId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "viewer");
    return profiles.listAgentProfiles(ctx.deps, input.workspaceId);
  }),
  byId: authedProcedure.input(z.object({ profileId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.agentProfile(input.profileId, "viewer");
    return profiles.getAgentProfile(ctx.deps, input.profileId);
  }),
} satisfies TRPCRouterRecord;
