import type { TRPCRouterRecord } from "@trpc/server";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zId, zInt32, zName } from "../schemas.js";
import * as boards from "../services/boards.js";
import { followBoardChanges } from "../services/streams.js";
import * as history from "../services/archive.js";
import { actorOf } from "../auth/principal.js";
import { zPurge } from "./card.js";

/** A board cursor as `board.cursor` or a tracked change gave it (a plain event id is one too). */
const zBoardCursor = z.union([zInt32.transform(String), z.string().trim().min(1).max(8_000)]);

export const boardRouter = {
  create: authedProcedure.input(z.object({ workspaceId: zId, name: zName })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "member");
    return boards.createBoard(ctx.deps, input);
  }),
  list: authedProcedure.input(z.object({ workspaceId: zId, archived: z.boolean().optional() })).query(async ({ ctx, input }) => {
    await ctx.authorize.workspace(input.workspaceId, "viewer");
    return boards.listBoards(ctx.deps, input.workspaceId, { archived: input.archived });
  }),
  rename: authedProcedure.input(z.object({ boardId: zId, name: zName })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.board(input.boardId, "admin");
    return boards.renameBoard(ctx.deps, input);
  }),
  archive: authedProcedure.input(z.object({ boardId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.board(input.boardId, "admin");
    return history.archive(ctx.deps, actorOf(ctx.principal), "board", input.boardId);
  }),
  restore: authedProcedure.input(z.object({ boardId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.board(input.boardId, "admin");
    return history.restore(ctx.deps, actorOf(ctx.principal), "board", input.boardId);
  }),
  purge: authedProcedure.input(zPurge.extend({ boardId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.board(input.boardId, "admin");
    ctx.authorize.globalAdmin();
    return history.purge(ctx.deps, "board", input.boardId, input.confirm);
  }),
  byId: authedProcedure.input(z.object({ boardId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.board(input.boardId, "viewer");
    return boards.getBoard(ctx.deps, input.boardId);
  }),
  /**
   * Where `onChanges` should start for a view that has just read the cards: a board's full
   * history is every event of every run, which a live view does not need.
   */
  cursor: authedProcedure.input(z.object({ boardId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.board(input.boardId, "viewer");
    return { lastEventId: await boards.boardCursor(ctx.deps) };
  }),
  /**
   * Live changes of the board: run events of its runs (tracked, and resumed exactly after
   * the last one received) and untracked `{ kind: "cards" }` signals when cards were
   * created, edited, moved or deleted, which write no run event. The tracked ids are
   * opaque cursors (`board.cursor` gives the current one). Without one, the stream starts
   * from a snapshot: `{ kind: "snapshot", runs }` (each card's latest run and its status),
   * then the board's last 100 run events, then what follows — never the board's history.
   */
  onChanges: authedProcedure.input(z.object({ boardId: zId, lastEventId: zBoardCursor.nullish() })).subscription(async function* ({ ctx, input, signal }) {
    await ctx.authorize.board(input.boardId, "viewer");
    for await (const item of followBoardChanges(ctx.deps, input.boardId, input.lastEventId ?? null, signal)) {
      if (item.cursor === null) yield item.change;
      else yield tracked(item.cursor, item.change);
    }
  }),
} satisfies TRPCRouterRecord;
