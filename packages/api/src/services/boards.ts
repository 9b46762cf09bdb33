import type { Deps } from "./deps.js";
import { notFound } from "../errors.js";

export async function createBoard(deps: Deps, input: { workspaceId: string; name: string }) {
  return deps.db.prisma.board.create({ data: input });
}

export async function listBoards(deps: Deps, workspaceId: string) {
  return deps.db.prisma.board.findMany({ where: { workspaceId }, orderBy: { createdAt: "asc" } });
}

export async function getBoard(deps: Deps, id: string) {
  const board = await deps.db.prisma.board.findUnique({ where: { id } });
  if (!board) throw notFound("board", id);
  return board;
}

/** The id of the board's newest run event: where a live view that just loaded starts following. */
export async function latestBoardEventId(deps: Deps, boardId: string): Promise<number> {
  const row = await deps.db.prisma.runEvent.findFirst({ where: { run: { boardId } }, orderBy: { id: "desc" }, select: { id: true } });
  return row?.id ?? 0;
}
