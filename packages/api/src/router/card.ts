import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { authedProcedure } from "../trpc.js";
import { zColumn, zId, zLabels } from "../schemas.js";
import * as cards from "../services/cards.js";
import { badRequest } from "../errors.js";

const zTitle = z.string().trim().min(1).max(300);
const zDescription = z.string().max(50_000);

export const cardRouter = {
  create: authedProcedure
    .input(z.object({ boardId: zId, projectId: zId, title: zTitle, description: zDescription.optional(), column: zColumn.optional(), labels: zLabels.optional() }))
    .mutation(async ({ ctx, input }) => {
      const ws = await ctx.authorize.board(input.boardId, "member");
      const projectWs = await ctx.authorize.project(input.projectId, "member");
      if (ws !== projectWs) throw badRequest("the project belongs to another workspace", "projectId");
      return cards.createCard(ctx.deps, input);
    }),
  update: authedProcedure
    .input(z.object({
      cardId: zId,
      title: zTitle.optional(),
      description: zDescription.optional(),
      labels: zLabels.optional(),
      /** The card's runs together may cost this much (USD); null removes the cap. */
      budgetUsd: z.number().positive().max(100_000).nullish(),
    }))
    .mutation(async ({ ctx, input }) => {
      await ctx.authorize.card(input.cardId, "member");
      return cards.updateCard(ctx.deps, input);
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
  list: authedProcedure.input(z.object({ boardId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.board(input.boardId, "viewer");
    return cards.listCards(ctx.deps, input.boardId);
  }),
  /** One column, a page at a time (`after`: the last card id of the page before). */
  listColumn: authedProcedure
    .input(z.object({ boardId: zId, column: zColumn, after: zId.optional(), limit: z.number().int().min(1).max(cards.MAX_CARD_PAGE).optional() }))
    .query(async ({ ctx, input }) => {
      await ctx.authorize.board(input.boardId, "viewer");
      return cards.listColumnPage(ctx.deps, input);
    }),
  /** The board's cards whose title or description holds every word of `query`, found by the server. */
  search: authedProcedure
    .input(z.object({ boardId: zId, query: z.string().trim().min(1).max(200), limit: z.number().int().min(1).max(200).optional() }))
    .query(async ({ ctx, input }) => {
      await ctx.authorize.board(input.boardId, "viewer");
      return cards.searchCards(ctx.deps, input);
    }),
  byId: authedProcedure.input(z.object({ cardId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.card(input.cardId, "viewer");
    return cards.getCard(ctx.deps, input.cardId);
  }),
} satisfies TRPCRouterRecord;
