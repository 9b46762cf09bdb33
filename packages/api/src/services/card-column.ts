import type { PublicRun as Run } from "@agentboard/db";
import type { Tx } from "./run-events.js";

/**
 * Where a card goes when one of its runs ends without success (failed, cancelled, its
 * runner lost): a card must not keep looking "In progress" when nothing works on it. With
 * another run still going it stays; with another run awaiting review it goes to In review;
 * otherwise back to To do. Only a card the run had put in progress moves: a card someone
 * dragged elsewhere stays where they put it.
 */
export async function releaseCardAfterRun(tx: Tx, run: Pick<Run, "id" | "cardId">): Promise<void> {
  const others = await tx.run.findMany({
    where: { cardId: run.cardId, id: { not: run.id }, status: { in: ["queued", "claimed", "running", "succeeded"] } },
    select: { status: true },
  });
  if (others.some((r) => r.status !== "succeeded")) return;
  const column = others.length > 0 ? "in_review" : "todo";
  await tx.card.updateMany({ where: { id: run.cardId, column: "in_progress" }, data: { column } });
}
