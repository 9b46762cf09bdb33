import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zId, zLabels } from "../schemas.js";

const zLimitMethod = z.enum(["cgroup2", "cgroup1", "rlimit", "timeout", "none"]);
/** What a runner says about its sandbox: shown on the runners page. */
const zSandboxSupport = z.object({
  available: z.boolean(),
  reason: z.string().max(2_000).nullable(),
  limits: z.object({ processes: zLimitMethod, memory: zLimitMethod, fileSize: zLimitMethod, openFiles: zLimitMethod, wallTime: zLimitMethod }).partial(),
});
import * as runners from "../services/runners.js";

export const runnerRouter = {
  register: authedProcedure
    .input(
      z.object({
        workspaceId: zId,
        name: z
          .string()
          .min(1)
          .max(100)
          .regex(/^[A-Za-z0-9_.:@-]+$/, "letters, digits and _.:@-"),
        labels: zLabels.optional(),
        capacity: z.number().int().min(1).max(256).optional(),
        hostname: z.string().max(255).optional(),
        version: z.string().max(64).optional(),
        sandbox: zSandboxSupport.optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.workspace(input.workspaceId, "runner");
      return runners.registerRunner(ctx.deps, ctx.principal, input);
    }),
  list: authedProcedure.input(z.object({ workspaceId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "viewer");
    return runners.listRunners(ctx.deps, input.workspaceId);
  }),
} satisfies TRPCRouterRecord;
