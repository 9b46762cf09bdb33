import type { Deps } from "./deps.js";

export interface ListWorktreesInput {
  workspaceId: string;
  /** Also list worktrees that were removed (kept for the record). */
  includeRemoved?: boolean;
}

/** The record of every worktree runners created in a workspace, newest first. */
export async function listWorktrees(deps: Deps, input: ListWorktreesInput) {
  return deps.db.prisma.worktree.findMany({
    where: {
      project: { workspaceId: input.workspaceId },
      ...(input.includeRemoved ? {} : { removedAt: null }),
    },
    orderBy: { createdAt: "desc" },
    take: 1000,
    include: {
      run: { select: { id: true, status: true, cardId: true, card: { select: { title: true } }, runner: { select: { id: true, name: true } } } },
      project: { select: { id: true, name: true } },
    },
  });
}
