import type { Prisma } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { existsSync } from "node:fs";
import { branchCommit, probeRemote } from "@agentboard/git";
import { badRequest, notFound } from "../errors.js";
import { confineRepository } from "./repo-roots.js";

/** A project that names a branch its repository does not have would fail only when a run starts: refused now, on the field. */
async function assertBaseBranch(repoPath: string, baseBranch: string) {
  if ((await branchCommit(repoPath, baseBranch)) === null) throw badRequest(`the repository at ${repoPath} has no branch ${baseBranch}`, "baseBranch");
}

/**
 * A remote that does not answer (mistyped, unreachable from the server, not a repository)
 * or lacks the base branch would fail only when a runner clones it: refused now, on its
 * field. The server asks with its own git settings (no token of the runners').
 */
async function assertRemote(remoteUrl: string, baseBranch: string) {
  const probe = await probeRemote({ url: remoteUrl, branch: baseBranch });
  if (!probe.reachable) throw badRequest(`the remote ${remoteUrl} did not answer as a git repository: ${probe.message}`, "remoteUrl");
  if (!probe.hasBranch) throw badRequest(`the remote ${remoteUrl} has no branch ${baseBranch}`, "baseBranch");
}

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
  // A repository on this server is checked now; one that only runners have is checked when they clone it.
  if (repoPath) await assertBaseBranch(repoPath, input.baseBranch);
  if (input.remoteUrl) await assertRemote(input.remoteUrl, input.baseBranch);
  return deps.db.prisma.project.create({
    data: { ...rest, repoPath: repoPath ?? rest.repoPath, hooks: (hooks ?? undefined) as Prisma.InputJsonValue | undefined, sandbox: sandbox ?? undefined },
  });
}

export async function updateProject(deps: Deps, input: Partial<Omit<ProjectInput, "workspaceId">> & { projectId: string }) {
  const { projectId, hooks, sandbox, ...rest } = input;
  const project = await getProject(deps, projectId);
  const { repoPath } = await confineRepository(deps, { workspaceId: project.workspaceId, repoPath: rest.repoPath, remoteUrl: rest.remoteUrl });
  const path = repoPath ?? project.repoPath;
  if ((repoPath || rest.baseBranch) && existsSync(path)) await assertBaseBranch(path, rest.baseBranch ?? project.baseBranch);
  const remote = rest.remoteUrl !== undefined ? rest.remoteUrl : project.remoteUrl;
  // Asked again when the remote or the branch changes, not on every save of a name or script.
  const remoteChanged = rest.remoteUrl !== undefined && rest.remoteUrl !== project.remoteUrl;
  const branchChanged = rest.baseBranch !== undefined && rest.baseBranch !== project.baseBranch;
  if (remote && (remoteChanged || branchChanged)) await assertRemote(remote, rest.baseBranch ?? project.baseBranch);
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
