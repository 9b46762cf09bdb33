import type { TRPCRouterRecord } from "@trpc/server";
import { publicProcedure } from "../trpc.js";
import { checkHealth } from "../services/health.js";

export const healthRouter = {
  check: publicProcedure.query(({ ctx }) => checkHealth(ctx.deps)),
} satisfies TRPCRouterRecord;
