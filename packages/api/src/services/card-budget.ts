/**
 * A card's budget (optional, USD): what its runs may cost together. Checked in this one place
 * by everything that starts a run for a card (run.create, follow-ups, re-runs, conflict
 * resolutions) and again at claim.
 */
import type { Deps } from "./deps.js";
import { conflict } from "../errors.js";

/** The card's budget and what its runs have cost together; null without a budget. */
async function cardSpending(deps: Deps, cardId: string): Promise<{ budgetUsd: number; spentUsd: number } | null> {
  const card = await deps.db.prisma.card.findUnique({ where: { id: cardId }, select: { budgetUsd: true } });
  if (!card || card.budgetUsd === null) return null;
  const spent = await deps.db.prisma.run.aggregate({ where: { cardId }, _sum: { costUsd: true } });
  return { budgetUsd: card.budgetUsd, spentUsd: spent._sum.costUsd ?? 0 };
}

/** CONFLICT/BUDGET_EXCEEDED when the card's runs together have reached its budget (at create of any run of the card, and at a claim by id). */
export async function assertCardBudget(deps: Deps, cardId: string): Promise<void> {
  const s = await cardSpending(deps, cardId);
  if (s && s.spentUsd >= s.budgetUsd) {
    throw conflict("BUDGET_EXCEEDED", `the card's runs have cost $${s.spentUsd.toFixed(4)} of its $${s.budgetUsd.toFixed(4)} budget`, s);
  }
}
