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
  sandbox?: Prisma.InputJsonObject | null;
}

export async function createProject(deps: Deps, input: ProjectInput) {
  const { hooks, sandbox, ...rest } = input;
  return deps.db.prisma.project.create({ data: { ...rest, hooks: (hooks ?? undefined) as Prisma.InputJsonValue | undefined, sandbox: sandbox ?? undefined } });
}

export async function updateProject(deps: Deps, input: Partial<Omit<ProjectInput, "workspaceId">> & { projectId: string }) {
  const { projectId, hooks, sandbox, ...rest } = input;
  await getProject(deps, projectId);
  return deps.db.prisma.project.update({
    where: { id: projectId },
    data: {
      ...rest,
      ...(hooks !== undefined ? { hooks: (hooks ?? undefined) as Prisma.InputJsonValue | undefined } : {}),
      // null goes back to the default policy, which an empty object is.
      ...(sandbox !== undefined ? { sandbox: sandbox ?? {} } : {}),
    },
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
