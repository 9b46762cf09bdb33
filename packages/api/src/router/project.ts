import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zBranch, zId, zName, zShellCommand } from "../schemas.js";
import * as projects from "../services/projects.js";
import * as history from "../services/archive.js";
import { actorOf } from "../auth/principal.js";
import { zPurge } from "./card.js";
import { needsGlobalAdmin, zSandboxPolicy } from "@agentboard/sandbox/policy";

const zHooks = z.object({
  pre: z.array(zShellCommand).max(20).optional(),
  post: z.array(zShellCommand).max(20).optional(),
  error: z.array(zShellCommand).max(20).optional(),
});

/** An absolute path on the runner's machine; never used in a shell. */
const zRepoPath = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => p.startsWith("/") && !p.split("/").includes(".."), "must be an absolute path without ..");
const zRemote = z
  .string()
  .max(2048)
  .refine((u) => /^(https?|ssh|git|file):\/\//.test(u), "must be an http(s), ssh, git or file URL");

export const ZCreateProjectInput = z.object({
  workspaceId: zId,
  name: zName,
  repoPath: zRepoPath,
  baseBranch: zBranch.default("main"),
  remoteUrl: zRemote.nullish(),
  setupScript: zShellCommand.nullish(),
  testCommand: zShellCommand.nullish(),
  hooks: zHooks.nullish(),
  /** The sandbox policy of the project's runs; null or absent: the default (confined). */
  sandbox: zSandboxPolicy.partial().nullish(),
});

export const projectRouter = {
  create: authedProcedure.input(ZCreateProjectInput).mutation(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "admin");
    if (input.sandbox && needsGlobalAdmin(input.sandbox)) ctx.authorize.globalAdmin();
    return projects.createProject(ctx.deps, input);
  }),
  update: authedProcedure.input(ZCreateProjectInput.omit({ workspaceId: true }).partial().extend({ projectId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.project(input.projectId, "admin");
    // Running unconfined, or reaching the runner's own machine, is the server admin's call.
    if (input.sandbox && needsGlobalAdmin(input.sandbox)) ctx.authorize.globalAdmin();
    return projects.updateProject(ctx.deps, input);
  }),
  list: authedProcedure.input(z.object({ workspaceId: zId, archived: z.boolean().optional() })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "viewer");
    return projects.listProjects(ctx.deps, input.workspaceId, { archived: input.archived });
  }),
  archive: authedProcedure.input(z.object({ projectId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.project(input.projectId, "admin");
    return history.archive(ctx.deps, actorOf(ctx.principal), "project", input.projectId);
  }),
  restore: authedProcedure.input(z.object({ projectId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.project(input.projectId, "admin");
    return history.restore(ctx.deps, actorOf(ctx.principal), "project", input.projectId);
  }),
  purge: authedProcedure.input(zPurge.extend({ projectId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.project(input.projectId, "admin");
    ctx.authorize.globalAdmin();
    return history.purge(ctx.deps, "project", input.projectId, input.confirm);
  }),
  byId: authedProcedure.input(z.object({ projectId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.project(input.projectId, "viewer");
    return projects.getProject(ctx.deps, input.projectId);
  }),
} satisfies TRPCRouterRecord;
