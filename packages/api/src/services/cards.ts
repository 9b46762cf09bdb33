import type { CardColumn, CardRunStatus, CardSearchArchived, Prisma, RunStatus } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { badRequest, conflict, notFound } from "../errors.js";
import { topics } from "../infra/notifier.js";

export async function createCard(
  deps: Deps,
  input: { boardId: string; projectId: string; title: string; description?: string; column?: CardColumn; labels?: string[] },
) {
  const [board, project] = await Promise.all([
    deps.db.prisma.board.findUnique({ where: { id: input.boardId } }),
    deps.db.prisma.project.findUnique({ where: { id: input.projectId } }),
  ]);
  if (!board) throw notFound("board", input.boardId);
  if (!project || project.workspaceId !== board.workspaceId) throw notFound("project", input.projectId);
  const column = input.column ?? "backlog";
  const last = await deps.db.prisma.card.findFirst({
    where: { boardId: input.boardId, column },
    orderBy: { position: "desc" },
    select: { position: true },
  });
  const card = await deps.db.prisma.card.create({
    data: {
      boardId: input.boardId,
      projectId: input.projectId,
      title: input.title,
      description: input.description ?? "",
      column,
      labels: input.labels ?? [],
      position: (last?.position ?? 0) + 1024,
    },
  });
  await deps.notifier.publish(topics.cards(card.boardId));
  return card;
}

/**
 * Edits a card. With `version` (the one the editor loaded) the save is conditional: when
 * someone saved in between, it answers CONFLICT `STALE_VERSION` with the card as it is now
 * and who changed it, and writes nothing.
 */
export async function updateCard(
  deps: Deps,
  actor: string,
  input: { cardId: string; version?: number; title?: string; description?: string; labels?: string[]; projectId?: string; budgetUsd?: number | null },
) {
  const before = await getCard(deps, input.cardId);
  if (input.projectId && input.projectId !== before.projectId) {
    const active = await deps.db.prisma.run.count({ where: { cardId: input.cardId, status: { in: ["queued", "claimed", "running"] } } });
    if (active > 0) throw conflict("RUN_ACTIVE", "the card has an active run: its project can change once the run has finished", { field: "projectId" });
  }
  const { count } = await deps.db.prisma.card.updateMany({
    where: { id: input.cardId, ...(input.version !== undefined ? { version: input.version } : {}) },
    data: {
      title: input.title,
      description: input.description,
      labels: input.labels,
      projectId: input.projectId,
      budgetUsd: input.budgetUsd,
      updatedBy: actor,
      version: { increment: 1 },
    },
  });
  if (count === 0) {
    const current = await getCard(deps, input.cardId);
    throw conflict("STALE_VERSION", `someone else saved this card meanwhile (${current.updatedBy ?? "unknown"}): review their change and save again`, {
      version: current.version,
      current: {
        title: current.title,
        description: current.description,
        labels: current.labels,
        projectId: current.projectId,
        updatedBy: current.updatedBy,
        updatedAt: current.updatedAt,
      },
    });
  }
  const card = await getCard(deps, input.cardId);
  await deps.notifier.publish(topics.cards(card.boardId));
  return card;
}

/**
 * Moves a card to a column, between two neighbours (fractional positions, so a move
 * writes one row). Without neighbours it goes to the end of the column.
 */
export async function moveCard(deps: Deps, input: { cardId: string; column: CardColumn; afterCardId?: string | null; beforeCardId?: string | null }) {
  const card = await getCard(deps, input.cardId);
  const neighbour = async (id: string | null | undefined) => {
    if (!id) return null;
    const n = await deps.db.prisma.card.findUnique({ where: { id }, select: { position: true, boardId: true, column: true } });
    if (!n || n.boardId !== card.boardId || n.column !== input.column) throw badRequest(`card ${id} is not in column ${input.column}`, "afterCardId");
    return n.position;
  };
  const [after, before] = await Promise.all([neighbour(input.afterCardId), neighbour(input.beforeCardId)]);
  let position: number;
  if (after != null && before != null) position = (after + before) / 2;
  else if (after != null) position = after + 1024;
  else if (before != null) position = before - 1024;
  else {
    const last = await deps.db.prisma.card.findFirst({
      where: { boardId: card.boardId, column: input.column, NOT: { id: card.id } },
      orderBy: { position: "desc" },
      select: { position: true },
    });
    position = (last?.position ?? 0) + 1024;
  }
  const moved = await deps.db.prisma.card.update({ where: { id: card.id }, data: { column: input.column, position } });
  await deps.notifier.publish(topics.cards(card.boardId));
  return moved;
}

const LATEST_RUN = { id: true, status: true, engine: true, costUsd: true, createdAt: true, finishedAt: true, errorReason: true, createdBy: true } as const;
const LATEST_RUN_OF_CARD = {
  ...LATEST_RUN,
  cardId: true,
  _count: { select: { approvals: { where: { status: "pending" } }, events: { where: { type: "user.message" } } } },
} as const;

/**
 * The board's cards, each with its latest run. The latest runs are read per board, not
 * per card: an `IN (…card ids)` list of a 2,000-card board exceeds SQLite's parameter limit.
 */
export async function listCards(deps: Deps, boardId: string, opts: { archived?: boolean } = {}) {
  const [cards, runs] = await Promise.all([
    deps.db.prisma.card.findMany({ where: { boardId, archivedAt: opts.archived ? { not: null } : null }, orderBy: [{ column: "asc" }, { position: "asc" }] }),
    deps.db.prisma.run.findMany({
      where: { boardId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      distinct: ["cardId"],
      select: LATEST_RUN_OF_CARD,
    }),
  ]);
  return attachLatest(cards, runs, await unreadMessages(deps, runs));
}

/** Cards with their latest run each, for a page of cards (at most a few hundred ids). */
async function withLatestRuns<C extends { id: string }>(deps: Deps, cards: C[]) {
  const runs =
    cards.length === 0
      ? []
      : await deps.db.prisma.run.findMany({
          where: { cardId: { in: cards.map((c) => c.id) } },
          orderBy: [{ createdAt: "desc" }, { id: "desc" }],
          distinct: ["cardId"],
          select: LATEST_RUN_OF_CARD,
        });
  return attachLatest(cards, runs, await unreadMessages(deps, runs));
}

type LatestRunRow = Prisma.RunGetPayload<{ select: typeof LATEST_RUN_OF_CARD }>;

const ENDED: readonly RunStatus[] = ["succeeded", "failed", "cancelled", "merged", "aborted"];
const UNREAD_CHUNK = 500;

/**
 * Per ended run that was sent messages, how many of them the agent never took (a
 * `user.message` without its `agent.user_message`): someone wrote to an agent that had
 * stopped, or whose engine does not read messages mid-run. Only runs that were written to
 * are looked at, a few hundred ids at a time.
 */
async function unreadMessages(deps: Deps, runs: LatestRunRow[]): Promise<Map<string, number>> {
  const written = runs.filter((r) => r._count.events > 0 && ENDED.includes(r.status));
  const unread = new Map<string, number>();
  for (let i = 0; i < written.length; i += UNREAD_CHUNK) {
    const chunk = written.slice(i, i + UNREAD_CHUNK);
    const taken = await deps.db.prisma.runEvent.groupBy({
      by: ["runId"],
      where: { runId: { in: chunk.map((r) => r.id) }, type: "agent.user_message" },
      _count: { _all: true },
    });
    const takenBy = new Map(taken.map((t) => [t.runId, t._count._all]));
    for (const r of chunk) {
      const n = r._count.events - (takenBy.get(r.id) ?? 0);
      if (n > 0) unread.set(r.id, n);
    }
  }
  return unread;
}

/**
 * Why a card's latest run needs a person, if it does (docs/review-loop.md, Attention): a
 * request waits for approval, a message was never taken by the agent, the run failed, or it
 * succeeded and waits for review. Most pressing first.
 */
export type Attention = "approval" | "message" | "failed" | "review";

export function attentionOf(run: { status: RunStatus; pendingApprovals: number; unreadMessages: number }): Attention | null {
  if (run.pendingApprovals > 0) return "approval";
  if (run.unreadMessages > 0) return "message";
  if (run.status === "failed") return "failed";
  if (run.status === "succeeded") return "review";
  return null;
}

/** Each card with its latest run (`runs`: none or one). A pending request of a run that is no longer running waits for no one. */
function attachLatest<C extends { id: string }>(cards: C[], runs: LatestRunRow[], unread: Map<string, number>) {
  const latest = new Map(
    runs.map(({ cardId, _count, ...run }) => {
      const facts = { ...run, pendingApprovals: run.status === "running" ? _count.approvals : 0, unreadMessages: unread.get(run.id) ?? 0 };
      return [cardId, { ...facts, attention: attentionOf(facts) }];
    }),
  );
  return cards.map((card) => {
    const run = latest.get(card.id);
    return { ...card, runs: run ? [run] : [] };
  });
}

export const MAX_CARD_PAGE = 500;

/**
 * One column of a board, a page at a time, in board order (position, then id): `after` is
 * the last card id of the previous page; `next` continues after this one, null at the end;
 * `total` counts the column's cards.
 */
export async function listColumnPage(deps: Deps, input: { boardId: string; column: CardColumn; after?: string; limit?: number }) {
  const limit = input.limit ?? 200;
  if (input.after) {
    // A card moved away since the page before: its column is read from its first page again.
    const anchor = await deps.db.prisma.card.findUnique({ where: { id: input.after }, select: { boardId: true, column: true } });
    if (!anchor || anchor.boardId !== input.boardId || anchor.column !== input.column)
      throw badRequest("after is not a card of this column (it may have moved since: read the column from the start)", "after");
  }
  const where = { boardId: input.boardId, column: input.column, archivedAt: null };
  const [rows, total] = await Promise.all([
    deps.db.prisma.card.findMany({
      where,
      orderBy: [{ position: "asc" }, { id: "asc" }],
      ...(input.after ? { cursor: { id: input.after }, skip: 1 } : {}),
      take: limit + 1,
    }),
    deps.db.prisma.card.count({ where }),
  ]);
  const page = rows.slice(0, limit);
  return { cards: await withLatestRuns(deps, page), next: rows.length > limit ? page.at(-1)!.id : null, total };
}

export interface SearchCardsInput {
  boardId: string;
  /** Every word in the title or description (case does not matter). */
  query?: string;
  archived?: CardSearchArchived;
  /** Every one of these among the card's labels. */
  labels?: string[];
  /** The card's latest run has one of these statuses (`none`: never run). */
  statuses?: CardRunStatus[];
  projectId?: string;
  /** A person (user id) who asked for at least one of the card's runs. */
  personId?: string;
  limit?: number;
}

/**
 * Cards of a board that meet every given part of the search (words, labels, latest run
 * status, project, the person who asked for a run), in column order (position, then id), at
 * most `limit`: done by the database, so a board of thousands of cards is never sent to the
 * browser to be filtered there. Cards record no creator; the person is the one who asked for
 * a run of the card (a run's `createdById`, `user:<id>`).
 */
export async function searchCards(deps: Deps, input: SearchCardsInput) {
  const words = (input.query ?? "")
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "")
    .slice(0, 10);
  const ids = await deps.db.sql.searchCards({
    boardId: input.boardId,
    words,
    archived: input.archived ?? "exclude",
    labels: input.labels ?? [],
    statuses: input.statuses ?? [],
    projectId: input.projectId ?? null,
    requestedBy: input.personId ? `user:${input.personId}` : null,
    limit: input.limit ?? 50,
  });
  const rows = await deps.db.prisma.card.findMany({ where: { id: { in: ids } } });
  const byId = new Map(rows.map((c) => [c.id, c]));
  return withLatestRuns(
    deps,
    ids.flatMap((id) => byId.get(id) ?? []),
  );
}

export async function getCard(deps: Deps, id: string) {
  const card = await deps.db.prisma.card.findUnique({ where: { id } });
  if (!card) throw notFound("card", id);
  return card;
}

export { deleteCardWithoutHistory as deleteCard } from "./archive.js";
