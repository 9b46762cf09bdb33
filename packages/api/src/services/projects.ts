import type { Prisma } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { notFound } from "../errors.js";
import { confineRepository } from "./repo-roots.js";

export interface ProjectHooks {
  pre?: string[];
  post?: string[];
  error?: string[];
}

export interface ProjectInput {
  workspaceId: string;
  name: string;
  repoPath: string;
  baseBranch: string;
  remoteUrl?: string | null;
  setupScript?: string | null;
  testCommand?: string | null;
  hooks?: ProjectHooks | null;
  sandbox?: Prisma.InputJsonObject | null;
}

export async function createProject(deps: Deps, input: ProjectInput) {
  const { hooks, sandbox, ...rest } = input;
  const { repoPath } = await confineRepository(deps, input);
  return deps.db.prisma.project.create({
    data: { ...rest, repoPath: repoPath ?? rest.repoPath, hooks: (hooks ?? undefined) as Prisma.InputJsonValue | undefined, sandbox: sandbox ?? undefined },
  });
}

export async function updateProject(deps: Deps, input: Partial<Omit<ProjectInput, "workspaceId">> & { projectId: string }) {
  const { projectId, hooks, sandbox, ...rest } = input;
  const project = await getProject(deps, projectId);
  const { repoPath } = await confineRepository(deps, { workspaceId: project.workspaceId, repoPath: rest.repoPath, remoteUrl: rest.remoteUrl });
  return deps.db.prisma.project.update({
    where: { id: projectId },
    data: {
      ...rest,
      ...(repoPath ? { repoPath } : {}),
      ...(hooks !== undefined ? { hooks: (hooks ?? undefined) as Prisma.InputJsonValue | undefined } : {}),
      // null goes back to the default policy, which an empty object is.
      ...(sandbox !== undefined ? { sandbox: sandbox ?? {} } : {}),
    },
  });
}

export async function listProjects(deps: Deps, workspaceId: string, opts: { archived?: boolean } = {}) {
  return deps.db.prisma.project.findMany({ where: { workspaceId, archivedAt: opts.archived ? { not: null } : null }, orderBy: { createdAt: "asc" } });
}

export async function getProject(deps: Deps, id: string) {
  const project = await deps.db.prisma.project.findUnique({ where: { id } });
  if (!project) throw notFound("project", id);
  return project;
}
