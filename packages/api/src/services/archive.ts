import type { Deps } from "./deps.js";
import { AppError, conflict, notFound } from "../errors.js";
import { topics } from "../infra/notifier.js";
import { ACTIVE_STATUSES, cancelRun } from "./runs.js";

/**
 * History is never lost: cards, boards and projects are archived, not deleted. An archived
 * thing leaves the lists (unless asked for) and takes no new work; its runs, events,
 * evidence and provenance stay readable, and it can be restored. A real delete exists for
 * a card without runs, and as a purge by a server administrator who types its name.
 */

export type Archivable = "card" | "board" | "project";

const archived = (what: string) => conflict("ARCHIVED", `this ${what} is archived: restore it first`);

/** Refuses new work on an archived card, board or project. */
export async function assertActiveCard(deps: Deps, cardId: string) {
  const card = await deps.db.prisma.card.findUnique({
    where: { id: cardId },
    select: { archivedAt: true, board: { select: { archivedAt: true } }, project: { select: { archivedAt: true } } },
  });
  if (!card) throw notFound("card", cardId);
  if (card.archivedAt) throw archived("card");
  if (card.board.archivedAt) throw archived("board");
  if (card.project.archivedAt) throw archived("project");
}

export async function assertActive(deps: Deps, what: "board" | "project", id: string) {
  const row =
    what === "board"
      ? await deps.db.prisma.board.findUnique({ where: { id }, select: { archivedAt: true } })
      : await deps.db.prisma.project.findUnique({ where: { id }, select: { archivedAt: true } });
  if (!row) throw notFound(what, id);
  if (row.archivedAt) throw archived(what);
}

/** Cancels the active runs of some cards first (their worktrees are cleaned as for any cancel). */
async function cancelActive(deps: Deps, actor: string, where: { cardId?: string; boardId?: string; projectId?: string }) {
  const active = await deps.db.prisma.run.findMany({ where: { ...where, status: { in: ["queued", ...ACTIVE_STATUSES] } }, select: { id: true } });
  for (const run of active) await cancelRun(deps, actor, run.id, "archived");
  return active.length;
}

export async function archive(deps: Deps, actor: string, what: Archivable, id: string) {
  const prisma = deps.db.prisma;
  const now = new Date();
  if (what === "card") {
    const card = await prisma.card.findUnique({ where: { id }, select: { boardId: true } });
    if (!card) throw notFound("card", id);
    const cancelled = await cancelActive(deps, actor, { cardId: id });
    await prisma.card.update({ where: { id }, data: { archivedAt: now, updatedBy: actor, version: { increment: 1 } } });
    await deps.notifier.publish(topics.cards(card.boardId));
    return { id, archivedAt: now, cancelledRuns: cancelled };
  }
  if (what === "board") {
    const cancelled = await cancelActive(deps, actor, { boardId: id });
    await prisma.board.update({ where: { id }, data: { archivedAt: now } });
    return { id, archivedAt: now, cancelledRuns: cancelled };
  }
  const cancelled = await cancelActive(deps, actor, { projectId: id });
  await prisma.project.update({ where: { id }, data: { archivedAt: now } });
  return { id, archivedAt: now, cancelledRuns: cancelled };
}

export async function restore(deps: Deps, actor: string, what: Archivable, id: string) {
  const prisma = deps.db.prisma;
  if (what === "card") {
    const card = await prisma.card.update({ where: { id }, data: { archivedAt: null, updatedBy: actor, version: { increment: 1 } } });
    await deps.notifier.publish(topics.cards(card.boardId));
  } else if (what === "board") await prisma.board.update({ where: { id }, data: { archivedAt: null } });
  else await prisma.project.update({ where: { id }, data: { archivedAt: null } });
  return { id, archivedAt: null };
}

/** A card without runs can be deleted; one with runs is archived instead (HAS_RUNS). */
export async function deleteCardWithoutHistory(deps: Deps, cardId: string) {
  const card = await deps.db.prisma.card.findUnique({ where: { id: cardId }, select: { boardId: true, _count: { select: { runs: true } } } });
  if (!card) throw notFound("card", cardId);
  if (card._count.runs > 0)
    throw conflict("HAS_RUNS", "this card has runs: archive it to keep their history (a server administrator can purge it)", { runs: card._count.runs });
  await deps.db.prisma.card.delete({ where: { id: cardId } });
  await deps.notifier.publish(topics.cards(card.boardId));
  return { id: cardId };
}

/**
 * Deletes a card, board or project and everything under it, runs and their history
 * included. Only for a server administrator, only once archived, and only with its name
 * typed as confirmation.
 */
export async function purge(deps: Deps, what: Archivable, id: string, confirmation: string) {
  const prisma = deps.db.prisma;
  const row =
    what === "card"
      ? await prisma.card.findUnique({ where: { id }, select: { title: true, archivedAt: true } }).then((r) => r && { name: r.title, archivedAt: r.archivedAt })
      : what === "board"
        ? await prisma.board.findUnique({ where: { id }, select: { name: true, archivedAt: true } })
        : await prisma.project.findUnique({ where: { id }, select: { name: true, archivedAt: true } });
  if (!row) throw notFound(what, id);
  if (!row.archivedAt) throw conflict("INVALID_STATE", `archive the ${what} before purging it`);
  if (confirmation !== row.name)
    throw new AppError("BAD_REQUEST", "BAD_REQUEST", `type the ${what}'s name exactly ("${row.name}") to purge it`, { field: "confirm" });
  if (what === "card") await prisma.card.delete({ where: { id } });
  else if (what === "board") await prisma.board.delete({ where: { id } });
  else await prisma.project.delete({ where: { id } });
  return { id, purged: true };
}
