import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zColumn, zId, zInt32, zLabels, zRunStatus } from "../schemas.js";
import * as cards from "../services/cards.js";
import { badRequest } from "../errors.js";
import { actorOf } from "../auth/principal.js";
import * as history from "../services/archive.js";

/** What a purge asks to be typed: the thing's name (a card's title). */
export const zPurge = z.object({ confirm: z.string().min(1).max(300) });

const zTitle = z.string().trim().min(1).max(300, "a title is at most 300 characters: put the rest in the description");
const zDescription = z.string().max(50_000);

export const cardRouter = {
  create: authedProcedure
    .input(
      z.object({ boardId: zId, projectId: zId, title: zTitle, description: zDescription.optional(), column: zColumn.optional(), labels: zLabels.optional() }),
    )
    .mutation(async ({ ctx, input }) => {
      const ws = await ctx.authorize.board(input.boardId, "member");
      const projectWs = await ctx.authorize.project(input.projectId, "member");
      if (ws !== projectWs) throw badRequest("the project belongs to another workspace", "projectId");
      await history.assertActive(ctx.deps, "board", input.boardId);
      await history.assertActive(ctx.deps, "project", input.projectId);
      return cards.createCard(ctx.deps, input);
    }),
  update: authedProcedure
    .input(
      z.object({
        cardId: zId,
        /** The version the editor loaded: a save over a newer one answers CONFLICT STALE_VERSION. */
        version: zInt32.min(1).optional(),
        title: zTitle.optional(),
        description: zDescription.optional(),
        labels: zLabels.optional(),
        /** Another project of the workspace, while the card has no active run. */
        projectId: zId.optional(),
        /** The card's runs together may cost this much (USD); null removes the cap. */
        budgetUsd: z.number().positive().max(100_000).nullish(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const ws = await ctx.authorize.card(input.cardId, "member");
      if (input.projectId && (await ctx.authorize.project(input.projectId, "member")) !== ws)
        throw badRequest("the project belongs to another workspace", "projectId");
      return cards.updateCard(ctx.deps, actorOf(ctx.principal), input);
    }),
  /** Off the board, history kept: an active run is cancelled first. */
  archive: authedProcedure.input(z.object({ cardId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.card(input.cardId, "member");
    return history.archive(ctx.deps, actorOf(ctx.principal), "card", input.cardId);
  }),
  restore: authedProcedure.input(z.object({ cardId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.card(input.cardId, "member");
    return history.restore(ctx.deps, actorOf(ctx.principal), "card", input.cardId);
  }),
  /** Deletes an archived card with its runs and their history: a server administrator, typing its title. */
  purge: authedProcedure.input(zPurge.extend({ cardId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.card(input.cardId, "admin");
    ctx.authorize.globalAdmin();
    return history.purge(ctx.deps, "card", input.cardId, input.confirm);
  }),
  move: authedProcedure
    .input(z.object({ cardId: zId, column: zColumn, afterCardId: zId.nullish(), beforeCardId: zId.nullish() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.card(input.cardId, "member");
      return cards.moveCard(ctx.deps, input);
    }),
  delete: authedProcedure.input(z.object({ cardId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.card(input.cardId, "member");
    return cards.deleteCard(ctx.deps, input.cardId);
  }),
  /** The board's cards; with `archived`, its archived ones instead. */
  list: authedProcedure.input(z.object({ boardId: zId, archived: z.boolean().optional() })).query(async ({ ctx, input }) => {
    await ctx.authorize.board(input.boardId, "viewer");
    return cards.listCards(ctx.deps, input.boardId, { archived: input.archived });
  }),
  /** One column, a page at a time (`after`: the last card id of the page before). */
  listColumn: authedProcedure
    .input(z.object({ boardId: zId, column: zColumn, after: zId.optional(), limit: z.number().int().min(1).max(cards.MAX_CARD_PAGE).optional() }))
    .query(async ({ ctx, input }) => {
      await ctx.authorize.board(input.boardId, "viewer");
      return cards.listColumnPage(ctx.deps, input);
    }),
  /**
   * The board's cards found by the server: every word of `query` in the title or
   * description, every one of `labels`, the latest run's status among `statuses` (`none`:
   * never run), the project, and `personId`: someone who asked for one of the card's runs.
   * At least one of these is needed. `archived`: leave archived cards out (the default),
   * find them too, or only them.
   */
  search: authedProcedure
    .input(
      z
        .object({
          boardId: zId,
          query: z.string().trim().max(200).optional(),
          archived: z.enum(["exclude", "include", "only"]).optional(),
          labels: zLabels.max(10).optional(),
          statuses: z
            .array(z.union([zRunStatus, z.literal("none")]))
            .max(9)
            .optional(),
          projectId: zId.optional(),
          personId: zId.optional(),
          limit: z.number().int().min(1).max(200).optional(),
        })
        .refine((s) => !!s.query || !!s.labels?.length || !!s.statuses?.length || !!s.projectId || !!s.personId, {
          message: "give words to search for or a filter (labels, statuses, project, person)",
          path: ["query"],
        }),
    )
    .query(async ({ ctx, input }) => {
      await ctx.authorize.board(input.boardId, "viewer");
      return cards.searchCards(ctx.deps, input);
    }),
  byId: authedProcedure.input(z.object({ cardId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.card(input.cardId, "viewer");
    return cards.getCard(ctx.deps, input.cardId);
  }),
} satisfies TRPCRouterRecord;
