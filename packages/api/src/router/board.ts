import type { TRPCRouterRecord } from "@trpc/server";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zId, zName } from "../schemas.js";
import * as boards from "../services/boards.js";
import { followBoardChanges } from "../services/streams.js";

export const boardRouter = {
  create: authedProcedure.input(z.object({ workspaceId: zId, name: zName })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "member");
    return boards.createBoard(ctx.deps, input);
  }),
  list: authedProcedure.input(z.object({ workspaceId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "viewer");
    return boards.listBoards(ctx.deps, input.workspaceId);
  }),
  byId: authedProcedure.input(z.object({ boardId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.board(input.boardId, "viewer");
    return boards.getBoard(ctx.deps, input.boardId);
  }),
  /** Run events of every run on the board, resumable by the last event id. */
  onChanges: authedProcedure
    .input(z.object({ boardId: zId, lastEventId: z.coerce.number().int().nonnegative().nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      await ctx.authorize.board(input.boardId, "viewer");
      for await (const change of followBoardChanges(ctx.deps, input.boardId, input.lastEventId ?? 0, signal)) {
        yield tracked(String(change.id), change);
      }
    }),
} satisfies TRPCRouterRecord;
