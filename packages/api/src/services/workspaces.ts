import type { Deps } from "./deps.js";
import { visibleWorkspaces, type Principal } from "../auth/principal.js";
import { conflict, notFound } from "../errors.js";
import { ensureDefaultWorkflow } from "./workflows.js";

/** A person who creates a workspace is its first admin member. */
export async function createWorkspace(deps: Deps, input: { name: string; slug: string; budgetUsd?: number | null }, creatorUserId: string | null = null) {
  const exists = await deps.db.prisma.workspace.findUnique({ where: { slug: input.slug }, select: { id: true } });
  if (exists) throw conflict("ALREADY_EXISTS", `a workspace with slug "${input.slug}" exists`, { field: "slug" });
  const ws = await deps.db.prisma.workspace.create({ data: { name: input.name, slug: input.slug, budgetUsd: input.budgetUsd ?? null } });
  await ensureDefaultWorkflow(deps, ws.id);
  if (creatorUserId) await deps.db.prisma.workspaceMember.create({ data: { workspaceId: ws.id, userId: creatorUserId, role: "admin" } });
  return ws;
}

export async function listWorkspaces(deps: Deps, principal: Principal) {
  const ids = visibleWorkspaces(principal);
  return deps.db.prisma.workspace.findMany({
    where: ids ? { id: { in: ids } } : {},
    orderBy: { createdAt: "asc" },
  });
}

export async function getWorkspace(deps: Deps, id: string) {
  const ws = await deps.db.prisma.workspace.findUnique({ where: { id } });
  if (!ws) throw notFound("workspace", id);
  return ws;
}

export async function updateWorkspace(deps: Deps, input: { workspaceId: string; name?: string; budgetUsd?: number | null }) {
  await getWorkspace(deps, input.workspaceId);
  return deps.db.prisma.workspace.update({
    where: { id: input.workspaceId },
    data: { name: input.name, budgetUsd: input.budgetUsd },
  });
}
