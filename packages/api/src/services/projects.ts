import type { Prisma } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { notFound } from "../errors.js";

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
}

export async function createProject(deps: Deps, input: ProjectInput) {
  const { hooks, ...rest } = input;
  return deps.db.prisma.project.create({ data: { ...rest, hooks: (hooks ?? undefined) as Prisma.InputJsonValue | undefined } });
}

export async function updateProject(deps: Deps, input: Partial<Omit<ProjectInput, "workspaceId">> & { projectId: string }) {
  const { projectId, hooks, ...rest } = input;
  await getProject(deps, projectId);
  return deps.db.prisma.project.update({
    where: { id: projectId },
    data: { ...rest, ...(hooks !== undefined ? { hooks: (hooks ?? undefined) as Prisma.InputJsonValue | undefined } : {}) },
  });
}

export async function listProjects(deps: Deps, workspaceId: string) {
  return deps.db.prisma.project.findMany({ where: { workspaceId }, orderBy: { createdAt: "asc" } });
}

export async function getProject(deps: Deps, id: string) {
  const project = await deps.db.prisma.project.findUnique({ where: { id } });
  if (!project) throw notFound("project", id);
  return project;
}
