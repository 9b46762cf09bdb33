import type { Deps } from "./deps.js";
import { notFound } from "../errors.js";
import { assertActive } from "./archive.js";

export async function createBoard(deps: Deps, input: { workspaceId: string; name: string }) {
  return deps.db.prisma.board.create({ data: input });
}

export async function listBoards(deps: Deps, workspaceId: string, opts: { archived?: boolean } = {}) {
  return deps.db.prisma.board.findMany({ where: { workspaceId, archivedAt: opts.archived ? { not: null } : null }, orderBy: { createdAt: "asc" } });
}

/** A new name; an archived board keeps its name until restored. */
export async function renameBoard(deps: Deps, input: { boardId: string; name: string }) {
  await assertActive(deps, "board", input.boardId);
  return deps.db.prisma.board.update({ where: { id: input.boardId }, data: { name: input.name } });
}

/**
 * A board, with `lastProjectId`: the project of its most recently created card whose
 * project is not archived (null before the first card), which the add-card form offers
 * first. One is usually working on one repository at a time.
 */
export async function getBoard(deps: Deps, id: string) {
  const board = await deps.db.prisma.board.findUnique({ where: { id } });
  if (!board) throw notFound("board", id);
  const last = await deps.db.prisma.card.findFirst({
    where: { boardId: id, project: { archivedAt: null } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { projectId: true },
  });
  return { ...board, lastProjectId: last?.projectId ?? null };
}

/**
 * Where a live view that just loaded starts following `board.onChanges`: after everything
 * committed so far. The same for every board (a cursor orders all events of the database).
 */
export async function boardCursor(deps: Deps): Promise<string> {
  return deps.db.sql.boardCursor();
}
